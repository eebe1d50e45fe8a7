"""Milliseconds per planning call and per update of the TD-MPC2 agent, and the training rate.

For presets 1m and 5m, on a 24-dim observation / 6-dim action problem (the setting of the
public implementation's figures) and on h1-walk's 51 / 19, with 1 and 2 threads. Training
env steps/s = 1000 / (plan + update) ms: one planning call and one update per env step
(update-to-data ratio 1), physics excluded. Reference, public TD-MPC2 on this machine class,
1 thread: 1m 288 + 210 ms (2.0 steps/s), 5m 878 + 762 ms (0.6 steps/s).

    python bench/agent_speed.py [--presets 1m 5m] [--threads 1 2] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from metaworld_hwm.physical import TDMPC2Agent, make_config

PROBLEMS = {"24/6": (24, 6), "h1-walk 51/19": (51, 19)}
PUBLIC_MS = {"1m": (288.0, 210.0), "5m": (878.0, 762.0)}


def random_batch(cfg, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    H, B = cfg.horizon, cfg.batch_size
    return {
        "obs": torch.from_numpy(rng.standard_normal((H + 1, B, cfg.obs_dim), dtype=np.float32)),
        "action": torch.from_numpy(rng.uniform(-1, 1, (H, B, cfg.action_dim)).astype(np.float32)),
        "reward": torch.from_numpy(rng.standard_normal((H, B, 1), dtype=np.float32)),
        "terminated": torch.zeros(H, B, 1),
    }


def time_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def measure(preset: str, obs_dim: int, action_dim: int, repeats: int) -> tuple[float, float]:
    cfg = make_config(preset, obs_dim, action_dim, episode_length=1000, episodic=True)
    agent = TDMPC2Agent(cfg, seed=0, device="cpu")
    rng = np.random.default_rng(0)
    obs = rng.standard_normal(obs_dim).astype(np.float32)
    batch = random_batch(cfg, rng)
    plan_ms = time_ms(lambda: agent.act(obs, t0=False), repeats)
    update_ms = time_ms(lambda: agent.update(batch), repeats)
    return plan_ms, update_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["1m", "5m"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("command: python bench/agent_speed.py " + " ".join(sys.argv[1:]))
    print(f"torch {torch.__version__}, CPU\n")
    print(f"{'preset':6s} {'problem':14s} {'threads':>7s} {'plan ms':>8s} {'update ms':>9s} "
          f"{'steps/s':>8s} {'vs public':>9s}")  # fmt: skip
    for preset in args.presets:
        for label, (obs_dim, action_dim) in PROBLEMS.items():
            for threads in args.threads:
                torch.set_num_threads(threads)
                plan_ms, update_ms = measure(preset, obs_dim, action_dim, args.repeats)
                rate = 1000.0 / (plan_ms + update_ms)
                public = PUBLIC_MS.get(preset)
                ratio = (
                    f"{sum(public) / (plan_ms + update_ms):8.1f}x"
                    if public and label == "24/6"
                    else " " * 9
                )
                print(f"{preset:6s} {label:14s} {threads:7d} {plan_ms:8.0f} {update_ms:9.0f} "
                      f"{rate:8.2f} {ratio}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

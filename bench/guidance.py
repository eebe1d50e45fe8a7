"""How guidance settings decide whether the MetaWorld agent keeps a dynamic expert's gait.

    python bench/guidance.py [--task h1-walk] [--steps 1500] [--seeds 1] [--eval-episodes 2]
        [--settings paper lam1 lam20 radius0.1 radius0.2 ...] [--out results/guidance]

Each setting trains the metaworld agent (tiny preset) online for ``--steps`` steps and then
runs ``--eval-episodes`` noise-free episodes, reporting return, mean forward COM speed and
falls. Settings are :class:`Setting`s; ``paper`` is the paper's (lambda 0.05, no trust
region, plain blend), ``lam20`` the default of ``--method metaworld``.
Writes ``guidance.csv`` and ``guidance.png`` (return per setting) to ``--out``. One thread.
"""

from __future__ import annotations

import argparse
import csv
import os
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.training import OnlineTrainer


@dataclass(frozen=True)
class Setting:
    """Guidance lambda, trust radius (0: none), fusion sharpness (1: the paper's blend)."""

    lam: float
    radius: float = 0.0
    sharpness: float = 4.0


SETTINGS: dict[str, Setting] = {
    "paper": Setting(0.05, sharpness=1.0),
    "sharp": Setting(0.05),
    "lam1": Setting(1.0),
    "lam5": Setting(5.0),
    "lam20": Setting(20.0),
    "lam20-blend": Setting(20.0, sharpness=1.0),
    "lam100": Setting(100.0),
    "radius0.1": Setting(0.05, radius=0.1),
    "radius0.2": Setting(0.05, radius=0.2),
}


def evaluate(trainer: OnlineTrainer, episodes: int) -> dict[str, float]:
    """Mean return, forward COM speed and falls of noise-free guided episodes."""
    guide = trainer.eval_guide
    env = trainer.env
    returns, speeds, falls = [], [], 0
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        guide.start_episode(obs)
        ret, vx = 0.0, []
        for t in range(1000):
            action = trainer.agent.act(obs, t0=t == 0, eval_mode=True, guide=guide)
            obs, reward, terminated, truncated, info = env.step(action)
            guide.observe(obs, info)
            ret += reward
            vx.append(float(env.unwrapped.physics.center_of_mass_velocity()[0]))
            if terminated or truncated:
                falls += int(terminated)
                break
        returns.append(ret)
        speeds.append(np.mean(vx))
    return {"return": float(np.mean(returns)), "speed": float(np.mean(speeds)), "falls": falls}


def run_setting(task: str, name: str, steps: int, seed: int, episodes: int) -> dict:
    setting = SETTINGS[name]
    with tempfile.TemporaryDirectory() as run_dir:
        cfg = RunConfig(
            task=task, method="metaworld", preset="tiny", steps=steps, seed=seed,
            eval_every=steps, eval_episodes=0, checkpoint_every=steps, buffer_size=steps + 1,
            guidance_lambda=setting.lam, guidance_radius=setting.radius,
            fusion_sharpness=setting.sharpness, run_dir=run_dir, tensorboard=False,
        )  # fmt: skip
        start = time.perf_counter()
        trainer = OnlineTrainer.from_config(cfg)
        trainer.train()
        result = evaluate(trainer, episodes)
    return {"setting": name, **asdict(setting), "seed": seed, "steps": steps, **result,
            "seconds": round(time.perf_counter() - start)}  # fmt: skip


def plot(rows: list[dict], out: Path) -> None:
    names = list(dict.fromkeys(r["setting"] for r in rows))
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=120)
    for i, name in enumerate(names):
        values = [r["return"] for r in rows if r["setting"] == name]
        ax.plot([i] * len(values), values, "o", color="tab:blue", alpha=0.7)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("eval return (1000 steps)")
    ax.set_ylim(0, 1000)
    ax.grid(alpha=0.3)
    ax.set_title("metaworld on h1-walk after online training: guidance settings")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="h1-walk")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--eval-episodes", type=int, default=2)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=SETTINGS)
    parser.add_argument("--out", default="results/guidance")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("$ " + shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in range(1, args.seeds + 1):
        for name in args.settings:
            row = run_setting(args.task, name, args.steps, seed, args.eval_episodes)
            rows.append(row)
            print(f"{name:16s} seed {seed}: return {row['return']:6.1f}, speed "
                  f"{row['speed']:+.2f} m/s, falls {row['falls']}/{args.eval_episodes} "
                  f"({row['seconds']} s)", flush=True)  # fmt: skip
            with (out / "guidance.csv").open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
            plot(rows, out / "guidance.png")


if __name__ == "__main__":
    main()

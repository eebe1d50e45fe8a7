"""What int8 planning (`WorldModelConfig.planning_int8`) does to TD-MPC2's plans and learning.

Plans. A float32 agent of the preset is fitted (``--updates`` gradient steps) to transitions
of ``--task`` collected with random actions, so its reward, value and dynamics heads are not
the zero-initialised ones. At ``--states`` observations from that data it plans (noise-free,
no warm start) three times: float32 with seed s, float32 with seed s + 1 (the planner's own
sampling noise) and int8 with seed s. Every plan's mean action sequence is then scored by the
float32 model (discounted predicted return over the horizon plus the bootstrap, averaged over
``--score-draws`` policy / Q-head draws). If int8 hurts the plans, its scores fall below the
float32 ones by more than re-seeding moves them, and its first actions move further from the
float32 plan than re-seeding does.

Learning (``--learning-seeds N`` or ``A-B``): seeds 1..N (or A..B) each of float32 and int8
planning on gym:InvertedPendulum-v5, the budget of `tests/integration/test_learning.py` (5000
steps), with ``--learning-preset`` (tiny by default), printing every evaluation return. At 1m,
``--async-updates --eval-every 2500`` is the training loop the speed figures are for;
``--learning-only`` skips the plan comparison.

    python bench/int8_planning.py [--preset 1m] [--task h1-walk] [--states 64]
                                  [--learning-seeds 0] [--learning-preset tiny]
                                  [--eval-every 1000] [--async-updates] [--learning-only]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.envs import make_env
from metaworld_hwm.evaluation.curves import read_columns
from metaworld_hwm.physical import TDMPC2Agent, make_config
from metaworld_hwm.physical.acting import ActingModel
from metaworld_hwm.physical.mppi import estimate_value, plan_action
from metaworld_hwm.training import OnlineTrainer
from metaworld_hwm.training.replay_buffer import ReplayBuffer


def collect(task: str, steps: int, seed: int) -> ReplayBuffer:
    """Transitions of ``task`` under uniform random actions."""
    env = make_env(task)
    rng = np.random.default_rng(seed)
    buffer = ReplayBuffer(steps + 1000, env.observation_space.shape[0], env.action_space.shape[0])
    obs, _ = env.reset(seed=seed)
    buffer.start_episode(obs)
    for _ in range(steps):
        action = rng.uniform(-1, 1, env.action_space.shape).astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(action, float(reward), terminated, truncated, obs)
        if terminated or truncated:
            obs, _ = env.reset()
            buffer.start_episode(obs)
    env.close()
    return buffer


def fit(preset: str, buffer: ReplayBuffer, obs_dim: int, action_dim: int, updates: int):
    cfg = make_config(preset, obs_dim, action_dim, episode_length=1000, episodic=True)
    agent = TDMPC2Agent(cfg, seed=0, device="cpu")
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i in range(updates):
        metrics = agent.update(buffer.sample(cfg.batch_size, cfg.horizon, rng))
        if (i + 1) % max(updates // 5, 1) == 0:
            print(f"  update {i + 1}/{updates}: reward loss {metrics['reward_loss']:.3f}, "
                  f"value loss {metrics['value_loss']:.3f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    return agent


@torch.no_grad()
def compare_plans(agent: TDMPC2Agent, states: torch.Tensor, score_draws: int) -> dict:
    cfg = agent.cfg
    models = {
        "fp32": ActingModel(agent.model, copy=True, int8=False),
        "int8": ActingModel(agent.model, copy=True, int8=True),
    }
    reference = agent.planning_model()  # the unfused float32 model scores every plan
    rows = []
    for i, obs in enumerate(states):
        z = models["fp32"].encode(obs[None])[0]
        means = {}
        for name, model, seed in (("fp32", "fp32", i), ("fp32 reseeded", "fp32", i + 10_000),
                                  ("int8", "int8", i)):  # fmt: skip
            gen = torch.Generator().manual_seed(seed)
            _, mean, _ = plan_action(models[model].planning_model(), z, cfg, gen, eval_mode=True)
            means[name] = mean
        score_gen = torch.Generator().manual_seed(123)
        scores = {
            name: float(
                torch.stack([
                    estimate_value(reference, z, m[:, None], cfg.discount, score_gen)
                    for _ in range(score_draws)
                ]).mean()
            )
            for name, m in means.items()
        }  # fmt: skip
        first = {name: m[0] for name, m in means.items()}
        rows.append({
            "score": scores,
            "dist reseeded": float((first["fp32 reseeded"] - first["fp32"]).abs().mean()),
            "dist int8": float((first["int8"] - first["fp32"]).abs().mean()),
        })  # fmt: skip
    return {"rows": rows}


def _mean_se(values: list[float]) -> str:
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else float("nan")
    return f"{statistics.fmean(values):+.4f} ± {se:.4f}"


def report_plans(result: dict) -> None:
    rows = result["rows"]
    names = ("fp32", "fp32 reseeded", "int8")
    print(f"\nplans at {len(rows)} states (score: float32 model's value of the plan's mean):")
    for name in names:
        print(f"  {name:14s} score {_mean_se([r['score'][name] for r in rows])}")
    for other in ("fp32 reseeded", "int8"):
        diff = [r["score"][other] - r["score"]["fp32"] for r in rows]
        print(f"  {other} - fp32 score (paired): {_mean_se(diff)}")
    print(f"  mean |a0 - a0_fp32| per dim: reseeded "
          f"{_mean_se([r['dist reseeded'] for r in rows])}, int8 "
          f"{_mean_se([r['dist int8'] for r in rows])}")  # fmt: skip


def parse_seeds(text: str) -> list[int]:
    """``"N"`` -> seeds 1..N, ``"A-B"`` -> seeds A..B."""
    first, _, last = text.partition("-")
    seeds = list(range(int(first), int(last) + 1)) if last else list(range(1, int(first) + 1))
    if not seeds:
        raise argparse.ArgumentTypeError(f"no seeds in {text!r}; give N or A-B with A <= B")
    return seeds


def learning(seeds: list[int], preset: str, eval_every: int, async_updates: bool) -> None:
    print(f"\nlearning: gym:InvertedPendulum-v5, {preset}, 5000 steps, seeds {seeds[0]}-"
          f"{seeds[-1]}, evaluation every {eval_every} steps over 2 episodes, "
          f"async_updates={async_updates}", flush=True)  # fmt: skip
    evaluations: dict[str, list[list[float]]] = {"fp32": [], "int8": []}
    for seed in seeds:  # the two precisions of a seed run back to back: results come in pairs
        for name in evaluations:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory() as run_dir:
                cfg = RunConfig(
                    task="gym:InvertedPendulum-v5", preset=preset, steps=5000, seed=seed,
                    eval_every=eval_every, eval_episodes=2, checkpoint_every=5000,
                    run_dir=run_dir, tensorboard=False, async_updates=async_updates,
                    world_model={"planning_int8": name == "int8"},
                )  # fmt: skip
                OnlineTrainer.from_config(cfg).train()
                _, evals = read_columns(Path(run_dir) / "eval.csv", "step", "episode_reward")
            evaluations[name].append(evals)
            print(f"  {name} seed {seed}: evals {evals} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)  # fmt: skip
    for name, runs in evaluations.items():
        print(f"  {name}: best eval mean {statistics.fmean(max(e) for e in runs):.0f}, "
              f"last eval mean {statistics.fmean(e[-1] for e in runs):.0f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="1m")
    parser.add_argument("--task", default="h1-walk")
    parser.add_argument("--collect-steps", type=int, default=5000)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--states", type=int, default=64)
    parser.add_argument("--score-draws", type=int, default=16)
    parser.add_argument("--learning-seeds", type=parse_seeds, default=[])
    parser.add_argument("--learning-preset", default="tiny")
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--async-updates", action="store_true")
    parser.add_argument("--learning-only", action="store_true")
    args = parser.parse_args()
    if not args.async_updates:
        torch.set_num_threads(1)
    print("command: python bench/int8_planning.py " + " ".join(sys.argv[1:]), flush=True)
    if args.learning_only:
        learning(args.learning_seeds, args.learning_preset, args.eval_every, args.async_updates)
        return
    buffer = collect(args.task, args.collect_steps, seed=0)
    print(f"{args.task}: {buffer.num_transitions} random-action transitions; fitting "
          f"{args.preset} for {args.updates} updates", flush=True)  # fmt: skip
    agent = fit(args.preset, buffer, buffer.obs.shape[1], buffer.action.shape[1], args.updates)
    rng = np.random.default_rng(1)
    states = torch.from_numpy(buffer.obs[rng.integers(0, len(buffer), args.states)])
    report_plans(compare_plans(agent, states, args.score_draws))
    if args.learning_seeds:
        learning(args.learning_seeds, args.learning_preset, args.eval_every, args.async_updates)


if __name__ == "__main__":
    main()

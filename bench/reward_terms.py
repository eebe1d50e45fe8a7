"""Where an expert's return goes: the task's reward terms and each actuator's effort term.

    python bench/reward_terms.py --task h1-walk --expert walk [--library experts]
                                 [--seeds 3] [--steps 1000] [--warmup 100]

Locomotion rewards are products, ``small_control * stand_reward * (5 move + 1) / 6``, so a
return is capped by its weakest factor. Runs the expert at its default command for ``--seeds``
episodes and prints the mean of every term the task reports, the return over the first
``--warmup`` steps (the start from rest) and the per-step reward after it, and for each
actuator its mean |force| and its share of ``small_control``
(``max(0, 1 - (f / 10 N m)^2)``, averaged over actuators: 1 for a joint that needs no torque).
One thread; prints figures, never passes or fails.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from metaworld_hwm.envs import make_env
from metaworld_hwm.envs.rewards import effort_terms
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.utils.machine import machine_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--task", default="h1-walk")
    parser.add_argument("--expert", default="walk")
    parser.add_argument("--library", default="experts")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("$ " + shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]))
    print(f"# {machine_label()}")
    expert = ExpertLibrary.load(args.library)[args.expert]
    env = make_env(args.task, max_episode_steps=args.steps)
    names = [env.model.actuator(i).name for i in range(env.model.nu)]
    rewards, terms, forces, falls = [], [], [], 0
    for seed in range(args.seeds):
        obs, _ = env.reset(seed=seed)
        expert.reset(1)
        episode = []
        for _ in range(args.steps):
            obs, reward, terminated, _, info = env.step(expert.act(obs))
            episode.append(reward)
            terms.append({k: float(v) for k, v in info.items() if np.isscalar(v)})
            forces.append(env.data.actuator_force.copy())
            if terminated:
                falls += 1
                break
        rewards.append(np.asarray(episode))
    returns = [r.sum() for r in rewards]
    warm = args.warmup
    print(f"{args.expert} on {args.task}, {args.seeds} seeds x {args.steps} steps, "
          f"command {getattr(expert, 'command', None)}")  # fmt: skip
    print(f"  return {np.mean(returns):.1f} +- {np.std(returns):.1f}, falls {falls}/{args.seeds}")
    print(f"  first {warm} steps: {np.mean([r[:warm].sum() for r in rewards]):.1f}; "
          f"per step after: {np.mean(np.concatenate([r[warm:] for r in rewards])):.4f}")
    print("  mean of each reward term over all steps:")
    for key in sorted({k for row in terms for k in row}):
        values = [row[key] for row in terms if key in row]
        print(f"    {key:16s} {np.mean(values):.4f} (min {np.min(values):.4f})")
    force = np.abs(np.asarray(forces))
    share = effort_terms(force)
    print(f"  small_control = (4 + {share.mean():.3f}) / 5 = {(4 + share.mean()) / 5:.4f}; "
          "per actuator (mean |force| N m, mean effort term):")
    for name, f, s in zip(names, force.mean(0), share.mean(0), strict=True):
        print(f"    {name:22s} {f:6.1f}  {s:.2f}")


if __name__ == "__main__":
    main()

"""Env steps per second for every task against the raw physics rate.

The raw rate is ``mj_step(model, data, nstep=10)`` on the same model with the same random
controls and resets, with no Python wrapper; the ratio env / raw is the share of time spent
in physics (goal: >= 0.85, i.e. the wrapper costs at most 15%). One thread, random actions.

    python bench/env_throughput.py [--steps 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import mujoco
import numpy as np

from metaworld_hwm.envs import ENV_NAMES, make_env


def env_rate(name: str, actions: np.ndarray) -> float:
    """Env steps/s over ``actions`` (resets on termination are included)."""
    env = make_env(name, seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def raw_physics_rate(name: str, actions: np.ndarray) -> float:
    """mj_step x frame skip per second on the env's model, same controls and resets."""
    env = make_env(name, seed=0)
    model, data = env.model, env.data
    ctrls = env.action_to_ctrl(actions)
    root = env.physics._root_qpos
    fall = env.task.termination_height or -np.inf
    steps_since_reset = 0
    start = time.perf_counter()
    for ctrl in ctrls:
        data.ctrl[:] = ctrl
        mujoco.mj_step(model, data, nstep=env.frame_skip)
        steps_since_reset += 1
        if data.qpos[root + 2] < fall or steps_since_reset == env.max_episode_steps:
            mujoco.mj_resetDataKeyframe(model, data, 0)
            mujoco.mj_forward(model, data)
            steps_since_reset = 0
    return len(actions) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    print(f"command: python bench/env_throughput.py --steps {args.steps} --repeats {args.repeats}")
    print(f"mujoco {mujoco.__version__}, 1 thread, random actions, best of {args.repeats}\n")
    print(f"{'env':14s} {'env steps/s':>12s} {'raw physics/s':>14s} {'ratio':>6s}")
    ratios = []
    for name in ENV_NAMES:
        rng = np.random.default_rng(0)
        actions = rng.uniform(-1, 1, size=(args.steps, make_env(name).action_space.shape[0]))
        env_best = max(env_rate(name, actions) for _ in range(args.repeats))
        raw_best = max(raw_physics_rate(name, actions) for _ in range(args.repeats))
        ratios.append(env_best / raw_best)
        print(f"{name:14s} {env_best:12.0f} {raw_best:14.0f} {ratios[-1]:6.2f}", flush=True)
    print(f"\nmean ratio {np.mean(ratios):.2f} (goal >= 0.85)")


if __name__ == "__main__":
    main()

"""Env steps per second for every task against the raw physics rate.

The raw rate is ``mj_step(model, data, nstep=10)`` on the same model along the same
trajectory (same seed, controls and resets), with no Python wrapper; the ratio env / raw is
the share of time spent in physics (goal: >= 0.85, i.e. the wrapper costs at most 15%). The
wrapper's own microseconds per step are also timed alone, which background load disturbs
less. One thread, random actions.

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
    """Env steps/s over ``actions`` (resets on termination or truncation included)."""
    env = make_env(name, seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def raw_physics_rate(name: str, actions: np.ndarray) -> float:
    """``mj_step`` x frame skip per second on the env's model along the same trajectory.

    Same seed, same controls and resets at the same steps (through ``env.reset``, whose cost
    both loops pay), so the two loops simulate identical states and differ only by the
    wrapper's per-step work: validation, observation, reward terms and termination.
    """
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
            env.reset()
            steps_since_reset = 0
    return len(actions) / (time.perf_counter() - start)


def wrapper_us_per_step(name: str, repeats: int = 2000) -> float:
    """Microseconds of the env's own per-step work (all but ``mj_step``), on a fixed state.

    Less sensitive to background load than a difference of two rates.
    """
    env = make_env(name, seed=0)
    action = env.action_space.sample()
    start = time.perf_counter()
    for _ in range(repeats):
        env.data.ctrl[:] = env.action_to_ctrl(env._validated(action))
        env.task.observe(env.physics)
        env.task.reward(env.physics)
        env.task.terminated(env.physics)
    return (time.perf_counter() - start) / repeats * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    print(f"command: python bench/env_throughput.py --steps {args.steps} --repeats {args.repeats}")
    print(f"mujoco {mujoco.__version__}, 1 thread, random actions, best of {args.repeats}\n")
    print(
        f"{'env':14s} {'env steps/s':>12s} {'raw physics/s':>14s} {'ratio':>6s}"
        f" {'wrapper us/step':>16s} {'physics share':>14s}"
    )
    ratios, shares = [], []
    for name in ENV_NAMES:
        rng = np.random.default_rng(0)
        actions = rng.uniform(-1, 1, size=(args.steps, make_env(name).action_space.shape[0]))
        env_runs, raw_runs = [], []
        for _ in range(args.repeats):  # interleaved, so background load hits both alike
            env_runs.append(env_rate(name, actions))
            raw_runs.append(raw_physics_rate(name, actions))
        env_best, raw_best = max(env_runs), max(raw_runs)
        ratios.append(env_best / raw_best)
        wrapper_us = min(wrapper_us_per_step(name) for _ in range(args.repeats))
        physics_us = 1e6 / raw_best
        shares.append(physics_us / (physics_us + wrapper_us))
        print(
            f"{name:14s} {env_best:12.0f} {raw_best:14.0f} {ratios[-1]:6.2f}"
            f" {wrapper_us:16.1f} {shares[-1]:14.2f}",
            flush=True,
        )
    print(f"\nmean ratio {np.mean(ratios):.2f}; mean physics share {np.mean(shares):.2f}")
    print("goal: >= 0.85 (the wrapper costs at most 15% of the physics)")


if __name__ == "__main__":
    main()

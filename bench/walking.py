"""Walk-expert figures for ``bench/experts.py``: return, falls, command tracking, pushes, speed.

Also runnable alone: ``python bench/walking.py [--library experts] [--teacher PATH]``; with
``--teacher`` the teacher policy runs the same episodes beside the expert (side by side, same
seeds and pushes).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from metaworld_hwm.envs import make_env
from metaworld_hwm.envs.humanoid_env import CONTROL_DT
from metaworld_hwm.skills.expert import Expert
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import WalkCommand, leg_action, yaw_of
from metaworld_hwm.skills.teacher import H1WalkTeacher

#: (vx, vy, yaw rate) commands of the tracking table: forward, backward, sideways, turning.
TRACKING_COMMANDS = [
    (0.0, 0.0, 0.0), (0.5, 0.0, 0.0), (1.0, 0.0, 0.0), (1.2, 0.0, 0.0), (-0.5, 0.0, 0.0),
    (0.0, 0.3, 0.0), (0.0, -0.3, 0.0), (0.0, 0.0, 0.8), (0.5, 0.0, 0.5), (0.5, 0.0, -0.5),
    (0.8, 0.2, -0.3),
]  # fmt: skip


class TeacherWalker:
    """The teacher behind the walk-expert interface (reset, set_command, act), for comparison."""

    name = "teacher"

    def __init__(self, path: str) -> None:
        self.teacher = H1WalkTeacher(path)
        self.command = WalkCommand()
        self.ctrlrange = make_env("h1-walk").model.actuator_ctrlrange.copy()
        self.t = 0.0

    def reset(self, batch_size: int = 1) -> None:
        self.teacher.reset(1)
        self.t = 0.0

    def set_command(self, **command: float | None) -> None:
        self.command = replace(self.command, **command)

    def act(self, obs: np.ndarray) -> np.ndarray:
        qpos, qvel = obs[None, :26], obs[None, 26:51]
        velocities = self.command.velocities(yaw_of(qpos[:, 3:7]))
        out = self.teacher.act(qpos, qvel, velocities, np.array([self.t]))
        self.teacher.previous = out
        self.t += CONTROL_DT
        return leg_action(out, self.ctrlrange)[0].astype(np.float32)


def episode(
    walker, seed: int, steps: int, push_speed: float = 0.0, push_every: int = 250,
    action_noise: float = 0.0,
) -> dict[str, float]:
    """One h1-walk episode with the default command; optional pushes every ``push_every`` steps
    (horizontal velocity change of ``push_speed`` in a random direction) and Gaussian noise of
    std ``action_noise`` on every normalised action (what a planner's exploration adds)."""
    env = make_env("h1-walk", max_episode_steps=steps)
    rng = np.random.default_rng(1000 + seed)
    obs, _ = env.reset(seed=seed)
    walker.reset(1)
    walker.set_command(**asdict(WalkCommand()))
    ret, speeds, fell = 0.0, [], False
    for t in range(steps):
        if push_speed and t > 0 and t % push_every == 0:
            angle = rng.uniform(-np.pi, np.pi)
            env.data.qvel[:2] += push_speed * np.array([np.cos(angle), np.sin(angle)])
        action = walker.act(obs)
        if action_noise:
            action = np.clip(action + action_noise * rng.standard_normal(action.shape), -1, 1)
        obs, reward, terminated, _, _ = env.step(action)
        ret += reward
        speeds.append(float(env.physics.center_of_mass_velocity()[0]))
        if terminated:
            fell = True
            break
    return {"return": ret, "speed": float(np.mean(speeds)), "fell": fell, "steps": t + 1}


def tracking(walker, command: tuple[float, float, float], steps: int = 500) -> np.ndarray:
    """Achieved (vx, vy in the heading frame, yaw rate), averaged over the last 60% of steps."""
    env = make_env("h1-walk", max_episode_steps=steps)
    obs, _ = env.reset(seed=0)
    walker.reset(1)
    walker.set_command(vx=command[0], vy=command[1], yaw_rate=command[2], heading=None)
    achieved = []
    for t in range(steps):
        obs, _, terminated, _, _ = env.step(walker.act(obs))
        if terminated:
            return np.full(3, np.nan)
        if t >= 0.4 * steps:
            yaw = yaw_of(obs[None, 3:7])[0]
            vx, vy = env.data.subtree_linvel[1, :2]
            achieved.append([np.cos(yaw) * vx + np.sin(yaw) * vy,
                             -np.sin(yaw) * vx + np.cos(yaw) * vy, obs[26 + 5]])  # fmt: skip
    return np.mean(achieved, axis=0)


def ms_per_action(expert: Expert, calls: int = 1000) -> float:
    obs, _ = make_env("h1-walk").reset(seed=0)
    expert.reset(1)
    start = time.perf_counter()
    for _ in range(calls):
        expert.act(obs)
    return 1000 * (time.perf_counter() - start) / calls


def plot_tracking(rows: list[tuple[tuple, dict[str, np.ndarray]]], out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), dpi=120)
    for k, (ax, label) in enumerate(zip(axes, ["vx (m/s)", "vy (m/s)", "yaw rate (rad/s)"],
                                        strict=True)):  # fmt: skip
        lim = [min(c[k] for c, _ in rows) - 0.2, max(c[k] for c, _ in rows) + 0.2]
        ax.plot(lim, lim, "k:", lw=1, label="commanded = achieved")
        for name, marker in (("walk", "o"), ("teacher", "x")):
            xs = [c[k] for c, r in rows if name in r]
            ys = [r[name][k] for c, r in rows if name in r]
            if xs:
                ax.plot(xs, ys, marker, ls="none", label=name, alpha=0.8)
        ax.set_xlabel(f"commanded {label}")
        ax.set_ylabel(f"achieved {label}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("walk expert: command tracking (10 s per command, last 6 s averaged)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)


def bench_walker(expert: Expert, seeds: int, teacher: str | None, plot: Path | None) -> None:
    """Print the walk expert's figures (and the teacher's beside them when given)."""
    walkers = {"walk": expert} | ({"teacher": TeacherWalker(teacher)} if teacher else {})
    start = time.perf_counter()
    print(f"\nwalk expert on h1-walk ({seeds} seeds, default command: forward, heading 0)")
    for name, walker in walkers.items():
        runs = [episode(walker, seed, 1000) for seed in range(seeds)]
        long = [episode(walker, seed, 1500) for seed in range(seeds)]
        returns = [r["return"] for r in runs]
        print(f"  {name:8s} 1000 steps: return {np.mean(returns):.1f} +- {np.std(returns):.1f} "
              f"(min {min(returns):.1f}), speed {np.mean([r['speed'] for r in runs]):.3f} m/s; "
              f"30 s (1500 steps) without a fall: {sum(not r['fell'] for r in long)}/{seeds}")
        for push in (0.5, 1.0):
            pushed = [episode(walker, s, 1000, push_speed=push) for s in range(seeds)]
            print(f"  {name:8s} pushes of {push} m/s every 5 s: "
                  f"{sum(not r['fell'] for r in pushed)}/{seeds} survived 20 s")  # fmt: skip
        for noise in (0.02, 0.05):
            noisy = [episode(walker, s, 1000, action_noise=noise) for s in range(seeds)]
            print(f"  {name:8s} action noise std {noise}: return "
                  f"{np.mean([r['return'] for r in noisy]):.1f}, "
                  f"{sum(not r['fell'] for r in noisy)}/{seeds} without a fall")  # fmt: skip
    print(f"  ({time.perf_counter() - start:.0f} s)")
    print("\n  command tracking (heading frame; achieved mean over the last 6 s of 10 s)")
    print("  | command vx, vy, yaw | " + " | ".join(f"{n} achieved" for n in walkers) + " |")
    print("  |---|" + "---|" * len(walkers))
    rows = []
    for command in TRACKING_COMMANDS:
        achieved = {n: tracking(w, command) for n, w in walkers.items()}
        rows.append((command, achieved))
        cells = " | ".join(
            "fell" if np.isnan(a).any() else f"{a[0]:+.2f}, {a[1]:+.2f}, {a[2]:+.2f}"
            for a in achieved.values()
        )
        print(f"  | {command[0]:+.1f}, {command[1]:+.1f}, {command[2]:+.1f} | {cells} |")
    if plot is not None:
        plot_tracking(rows, plot)
        print(f"  plot: {plot}")
    print(f"  {ms_per_action(expert):.3f} ms per action (one thread, batch 1)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", default="experts")
    parser.add_argument("--name", default="walk")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--teacher", help="teacher TorchScript file, run side by side")
    parser.add_argument("--plot", default="results/walk_expert/command_tracking.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("$ " + shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]))
    expert = ExpertLibrary.load(args.library)[args.name]
    bench_walker(expert, args.seeds, args.teacher, Path(args.plot))


if __name__ == "__main__":
    main()

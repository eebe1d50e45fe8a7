"""Returns of the library's experts in their tasks: the full 10-seed, 1000-step figure.

    python bench/experts.py [--library experts] [--seeds 10] [--steps 1000] [--reach-goals 40]
                            [--skills stand walk run reach] [--teacher PATH]
                            [--run-commands 2.2 2.6] [--run-pushes 0.5]

* stand: return per seed on h1-stand (HumanoidBench's reset noise), falls, and survival of a
  100 N, 0.1 s push on the torso in 8 directions (seed 0, push at step 500);
* walk: every walk-skill expert by ``bench/walking.py`` (return over 10 seeds, 30 s without
  a fall, speed, pushes of 0.5 and 1.0 m/s, command tracking table and plot, ms per action;
  with ``--teacher PATH`` the teacher side by side), and stand on h1-walk as the baseline a
  walker must beat;
* run: every run-skill expert at its default command on h1-run: return over 1000 steps per
  seed, mean forward speed, falls, whether it holds >= 2.0 m/s for 30 s without a fall, and
  its heading error; then at each ``--run-commands`` speed: return, speed and falls; and with
  each ``--run-pushes`` speed, a pelvis velocity change of that size in a random direction
  every 5 s: falls within 30 s (the runner's margin);
* reach: goals drawn from h1-reach's own distribution, kept when left-arm IK from the standing
  pose gets within 1 cm ("reachable"); success = hand within 5 cm after 250 steps.
One thread; prints figures, never passes or fails.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from metaworld_hwm.envs import make_env
from metaworld_hwm.skills.expert import Expert
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import yaw_of
from walking import bench_walker

DIRECTIONS = [(np.cos(a), np.sin(a)) for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]


def pushed_episode(expert: Expert, force: np.ndarray, push_at: int, steps: int) -> int:
    """Steps survived (== steps when the robot never fell) with a 0.1 s torso push."""
    env = make_env("h1-stand")
    obs, _ = env.reset(seed=0)
    torso = env.model.body("torso_link").id
    for t in range(steps):
        env.data.xfrc_applied[torso, :3] = force if push_at <= t < push_at + 5 else 0.0
        obs, _, terminated, _, _ = env.step(expert.act(obs))
        if terminated:
            return t
    return steps


def bench_stand(expert: Expert, seeds: int, steps: int) -> None:
    start = time.perf_counter()
    env = make_env("h1-stand")
    returns, falls = [], 0
    for seed in range(seeds):
        obs, _ = env.reset(seed=seed)
        returns.append(0.0)
        for _ in range(steps):
            obs, reward, terminated, _, _ = env.step(expert.act(obs))
            returns[-1] += reward
            if terminated:
                falls += 1
                break
    elapsed = time.perf_counter() - start
    print(f"\nstand on h1-stand, {seeds} seeds x {steps} steps ({elapsed:.1f} s)")
    print("  returns: " + " ".join(f"{r:.1f}" for r in returns))
    print(f"  mean {np.mean(returns):.1f} +- {np.std(returns):.1f}, min {min(returns):.1f}, "
          f"episodes with a fall: {falls}")  # fmt: skip
    for magnitude in (100.0, 150.0):
        survived = [
            pushed_episode(expert, magnitude * np.array([*d, 0.0]), 500, 700) == 700
            for d in DIRECTIONS
        ]
        print(f"  {magnitude:.0f} N x 0.1 s push at step 500, 8 directions: "
              f"{sum(survived)}/8 survived")  # fmt: skip


def bench_walk(name: str, expert: Expert, seeds: int, steps: int) -> None:
    """A non-walking expert on h1-walk: the baseline a walker must beat."""
    start = time.perf_counter()
    env = make_env("h1-walk")
    returns, speeds, falls = [], [], 0
    for seed in range(seeds):
        obs, _ = env.reset(seed=seed)
        returns.append(0.0)
        com_vx = []
        for _ in range(steps):
            obs, reward, terminated, _, _ = env.step(expert.act(obs))
            returns[-1] += reward
            com_vx.append(float(env.unwrapped.physics.center_of_mass_velocity()[0]))
            if terminated:
                falls += 1
                break
        speeds.append(np.mean(com_vx))
    elapsed = time.perf_counter() - start
    print(f"\n{name} on h1-walk, {seeds} seeds x {steps} steps ({elapsed:.1f} s)")
    print(f"  return mean {np.mean(returns):.1f} +- {np.std(returns):.1f}, episodes with a fall: "
          f"{falls}, mean forward COM speed {np.mean(speeds):+.3f} m/s")  # fmt: skip


def run_episode(expert: Expert, env, seed: int, vx: float | None = None, push_speed: float = 0.0
                ) -> tuple[float, list[float], list[float], bool]:  # fmt: skip
    """One h1-run episode of up to 1500 steps (30 s): the return over 1000 steps, the forward
    COM speed per step, the heading error per step after the first 5 s, and whether it fell;
    ``vx``: a command other than the expert's default; ``push_speed``: every 250 steps (5 s)
    the pelvis's horizontal velocity changes by that much in a random direction."""
    obs, _ = env.reset(seed=seed)
    expert.reset(1)
    if vx is not None:
        expert.set_command(vx=vx)
    pushes = np.random.default_rng(seed)
    ret, com_vx, yaws = 0.0, [], []
    for t in range(1500):
        if push_speed and t > 0 and t % 250 == 0:
            angle = pushes.uniform(-np.pi, np.pi)
            env.unwrapped.data.qvel[:2] += push_speed * np.array([np.cos(angle), np.sin(angle)])
        obs, reward, terminated, _, _ = env.step(expert.act(obs))
        ret += reward if t < 1000 else 0.0
        com_vx.append(float(env.unwrapped.physics.center_of_mass_velocity()[0]))
        if t >= 250:
            yaws.append(abs(float(yaw_of(env.unwrapped.data.qpos[None, 3:7])[0])))
        if terminated:
            return ret, com_vx, yaws, True
    return ret, com_vx, yaws, False


def bench_run(name: str, expert: Expert, seeds: int, commands: list[float],
              pushes: list[float]) -> None:  # fmt: skip
    """A run expert on h1-run: at its default command, 1000-step returns, 30-s holds and
    heading error; at each of ``commands``, return, speed and falls; with pushes of each of
    ``pushes`` (m/s) every 5 s, return and falls."""
    start = time.perf_counter()
    env = make_env("h1-run", max_episode_steps=1500)
    runs = [run_episode(expert, env, seed) for seed in range(seeds)]
    returns = [r[0] for r in runs]
    falls = sum(r[3] for r in runs)
    held = sum(not r[3] and np.mean(r[1][250:]) >= 2.0 for r in runs)
    yaws = np.concatenate([r[2] for r in runs])
    elapsed = time.perf_counter() - start
    command = getattr(expert, "command", None)
    print(f"\n{name} on h1-run (command {command}), {seeds} seeds ({elapsed:.1f} s)")
    print("  returns over 1000 steps: " + " ".join(f"{r:.1f}" for r in returns))
    print(f"  mean {np.mean(returns):.1f} +- {np.std(returns):.1f}; mean forward COM speed "
          f"{np.mean([np.mean(r[1]) for r in runs]):.2f} m/s (steps 100-1000, the scored "
          f"ones after the start: {np.mean([np.mean(r[1][100:1000]) for r in runs]):.2f} m/s); "
          f"falls within 30 s: "
          f"{falls}/{seeds}; >= 2.0 m/s (after the first 5 s) for 30 s, no fall: "
          f"{held}/{seeds}; heading error (commanded 0) after the first 5 s: mean "
          f"{np.mean(yaws):.2f} rad, max {np.max(yaws):.2f}")  # fmt: skip
    low, high = expert.command_ranges["vx"]
    for vx in commands:
        if not low <= vx <= high:
            print(f"  command {vx} m/s: outside its range [{low}, {high}], skipped")
            continue
        runs = [run_episode(expert, env, seed, vx) for seed in range(seeds)]
        print(f"  command {vx} m/s: return {np.mean([r[0] for r in runs]):.1f} +- "
              f"{np.std([r[0] for r in runs]):.1f}, speed after the first 5 s "
              f"{np.mean([np.mean(r[1][250:]) for r in runs]):.2f} m/s, falls within 30 s "
              f"{sum(r[3] for r in runs)}/{seeds}")  # fmt: skip
    for push in pushes:
        runs = [run_episode(expert, env, seed, push_speed=push) for seed in range(seeds)]
        print(f"  pushes of {push} m/s every 5 s: return {np.mean([r[0] for r in runs]):.1f}, "
              f"falls within 30 s {sum(r[3] for r in runs)}/{seeds}")  # fmt: skip


def bench_reach(expert: Expert, goals: int) -> None:
    env = make_env("h1-reach", seed=0)
    obs, _ = env.reset(seed=0)
    for _ in range(150):  # settle into the standing pose with the arm still
        still = obs.copy()
        still[-3:] = still[51:54]
        obs, *_ = env.step(expert.act(still))
    standing = env.data.qpos.copy()
    rng = np.random.default_rng(0)
    candidates = rng.uniform([-2, -2, 0.2], [2, 2, 2], size=(40 * goals, 3))
    reachable = [g for g in candidates if expert.arm_targets(standing, g)[1] < 0.01][:goals]
    share = len(reachable) / len(candidates)
    reached, finals = 0, []
    for i, goal in enumerate(reachable):
        env.reset(seed=i)
        env.task.goal = goal
        env.data.mocap_pos[0] = goal
        obs = env.task.observe(env.physics)
        for _ in range(250):
            obs, _, _, _, info = env.step(expert.act(obs))
        finals.append(info["hand_dist"])
        reached += info["hand_dist"] < 0.05
    print(f"\nreach on h1-reach: {share:.1%} of the task's goals are reachable by the left arm")
    print(f"  reached within 5 cm after 250 steps: {reached}/{len(reachable)} "
          f"({reached / max(len(reachable), 1):.0%}); median final distance "
          f"{np.median(finals) * 100:.1f} cm")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", default="experts")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--reach-goals", type=int, default=40)
    parser.add_argument("--teacher", help="walk teacher (TorchScript), run beside the walker")
    parser.add_argument("--run-commands", type=float, nargs="*", default=[2.2, 2.6],
                        help="run experts: other forward commands (m/s) to score")
    parser.add_argument("--run-pushes", type=float, nargs="*", default=[],
                        help="run experts: push speeds (m/s), one push every 5 s, to score")
    parser.add_argument("--skills", nargs="+", default=["stand", "walk", "run", "reach"],
                        help="which skills' experts to score")
    parser.add_argument("--tracking-plot", default="results/walk_expert/command_tracking.png")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("$ " + shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]))
    library = ExpertLibrary.load(args.library)
    print(f"library {args.library}: {', '.join(library.names)}")
    if "stand" in library.names and "stand" in args.skills:
        bench_stand(library["stand"], args.seeds, args.steps)
    chosen = [n for n in library.names if library[n].spec.skill in args.skills]
    for name in [n for n in chosen if library[n].spec.skill == "walk"]:
        bench_walker(library[name], args.seeds, args.teacher, Path(args.tracking_plot))
    for name in [n for n in chosen if library[n].spec.skill == "run"]:
        bench_run(name, library[name], args.seeds, args.run_commands, args.run_pushes)
    if "stand" in library.names and "walk" in args.skills:
        bench_walk("stand", library["stand"], args.seeds, args.steps)
    if "reach" in library.names and args.reach_goals and "reach" in args.skills:
        bench_reach(library["reach"], args.reach_goals)


if __name__ == "__main__":
    main()

"""The pose-holding check: one short episode of every task, a video and a table of returns.

It shows the benchmark before any agent exists: each robot holds its keyframe pose (servo
targets = standing joint angles), which HumanoidBench's H1 cannot keep for long.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metaworld_hwm.envs import ENV_NAMES, make_env
from metaworld_hwm.envs.rendering import RenderingUnavailableError, write_mp4
from metaworld_hwm.utils.atomic import atomic_write_text


@dataclass(frozen=True)
class EpisodeResult:
    """Outcome of one demo episode."""

    env_name: str
    episode_return: float
    steps: int
    terminated: bool
    seconds: float


def run_episode(
    env_name: str, steps: int, seed: int, frames: list[np.ndarray] | None, frame_every: int = 2
) -> EpisodeResult:
    """Hold the keyframe pose in ``env_name`` for up to ``steps``; append frames if given."""
    env = make_env(env_name, seed=seed, render_mode="rgb_array" if frames is not None else None)
    start = time.perf_counter()
    action = env.hold_action()
    total, terminated, t = 0.0, False, 0
    for t in range(1, steps + 1):
        _, reward, terminated, truncated, _ = env.step(action)
        total += reward
        if frames is not None and t % frame_every == 0:
            frames.append(env.render())
        if terminated or truncated:
            break
    env.close()
    return EpisodeResult(env_name, total, t, terminated, time.perf_counter() - start)


def results_table(results: list[EpisodeResult]) -> str:
    """A Markdown table of the demo's returns."""
    lines = [
        "| env | return | steps | fell |",
        "|---|---:|---:|:---:|",
        *(
            f"| {r.env_name} | {r.episode_return:.1f} | {r.steps} "
            f"| {'yes' if r.terminated else 'no'} |"
            for r in results
        ),
    ]
    return "\n".join(lines) + "\n"


def run_pose_hold(
    out_dir: Path, steps: int = 150, seed: int = 0, video: bool = True
) -> list[EpisodeResult]:
    """Run every env once with the hold-pose action and write the video and tables."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frames: list[np.ndarray] | None = [] if video else None
    results = []
    for i, name in enumerate(ENV_NAMES, 1):
        try:
            result = run_episode(name, steps, seed, frames)
        except RenderingUnavailableError as exc:
            print(f"rendering unavailable, continuing without video: {exc}")
            frames = None
            result = run_episode(name, steps, seed, None)
        results.append(result)
        print(
            f"[{i}/{len(ENV_NAMES)}] {name:12s} return {result.episode_return:8.1f} "
            f"over {result.steps:4d} steps{' (fell)' if result.terminated else ''} "
            f"in {result.seconds:.1f} s",
            flush=True,
        )
    table = results_table(results)
    atomic_write_text(out_dir / "returns.md", "# Hold-pose demo\n\n" + table)
    rows = [[r.env_name, f"{r.episode_return:.4f}", r.steps, int(r.terminated)] for r in results]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [["env", "return", "steps", "terminated"], *rows]
    )
    atomic_write_text(out_dir / "returns.csv", buffer.getvalue())
    print(table)
    if frames:
        path = write_mp4(frames, out_dir / "pose_hold.mp4", fps=25)
        print(f"video: {path}")
    print(f"tables: {out_dir / 'returns.md'}, {out_dir / 'returns.csv'}")
    return results

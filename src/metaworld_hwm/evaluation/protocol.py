"""The paper's evaluation protocol (section 4.4): 10 trials, success counted per trial.

Success, per task family:
* stand, walk, run: no fall for 30 s of simulated time (1500 control steps; the episode's
  time limit is lifted to 1500 for this check);
* door: the door opened, i.e. its hinge reached ``DOOR_OPEN_RAD`` = 0.9 rad (52 degrees, wide
  enough to pass; the door's range is 1.4 rad) at any step, without a fall;
* reach: the left hand within 5 cm of the goal at any step.
Returns are those of the same trials (summed over at most the 1000-step episode, as in
training, so they compare with training curves).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaworld_hwm.training.config import TrainConfig
from metaworld_hwm.training.trainer import OnlineTrainer
from metaworld_hwm.utils.atomic import atomic_write_text

LOCOMOTION_SECONDS = 30.0
DOOR_OPEN_RAD = 0.9
REACH_SUCCESS_M = 0.05
RETURN_STEPS = 1000


@dataclass
class Trial:
    """One evaluation episode."""

    seed: int
    episode_return: float
    steps: int
    fell: bool
    success: bool
    weights: list[list[float]] = field(default_factory=list)
    """Fused expert weights per step (metaworld runs, first trial only)."""


def _success_steps(task: str) -> int:
    return int(LOCOMOTION_SECONDS / 0.02) if task in ("stand", "walk", "run") else RETURN_STEPS


def run_trial(
    trainer: OnlineTrainer, seed: int, record_weights: bool = False, frames: list | None = None
) -> Trial:
    """One episode of the trained agent (noise-free planner) on a fresh env seed."""
    env = trainer.eval_env
    base = env.unwrapped
    task = getattr(base, "task_name", None)  # None: a gym: env, judged by return only
    if task is not None:
        base.max_episode_steps = _success_steps(task)
    obs, _ = env.reset(seed=seed)
    guide = trainer.eval_guide
    if guide is not None:
        guide.start_episode(obs)
    total, t, fell, success, weights = 0.0, 0, False, False, []
    while True:
        action = trainer.act(obs, t0=t == 0, eval_mode=True, guide=guide)
        if record_weights and guide is not None:
            weights.append(guide.fused_weights(obs).round(4).tolist())
        obs, reward, terminated, truncated, info = env.step(action)
        t += 1
        if t <= RETURN_STEPS:
            total += float(reward)
        if frames is not None and t % 2 == 0:
            frames.append(env.render())
        if guide is not None:
            guide.observe(obs, info)
        if task == "door" and base.task.door_angle(base.physics) >= DOOR_OPEN_RAD:
            success = True
        if task == "reach" and info["hand_dist"] < REACH_SUCCESS_M:
            success = True
        fell = bool(terminated)
        if terminated or truncated:
            break
    if task in ("stand", "walk", "run", None):
        success = not fell
    elif task == "door":
        success = success and not fell
    return Trial(seed, total, t, fell, success, weights)


def load_trainer(run_dir: Path, render: bool = False) -> OnlineTrainer:
    """Rebuild a run's trainer from its ``config.json`` and ``checkpoint.pt``."""
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    train = json.loads(config_path.read_text())["train"]
    cfg = TrainConfig(**{**train, "run_dir": str(run_dir), "tensorboard": False})
    trainer = OnlineTrainer(cfg)
    if not trainer.restore():
        raise FileNotFoundError(f"{run_dir} has no checkpoint.pt to evaluate; train first")
    if render:
        trainer.eval_env.unwrapped.render_mode = "rgb_array"
    return trainer


def evaluate_run(
    run_dir: Path, trials: int = 10, seed: int = 100_000, video: Path | None = None
) -> dict[str, Any]:
    """Run the protocol on a run directory; writes and returns ``eval_protocol.json``."""
    trainer = load_trainer(run_dir, render=video is not None)
    results = []
    for i in range(trials):
        frames: list | None = [] if (video is not None and i == 0) else None
        results.append(run_trial(trainer, seed + i, record_weights=i == 0, frames=frames))
        if frames:
            from metaworld_hwm.envs.rendering import write_mp4

            write_mp4(frames, video, fps=25)
        r = results[-1]
        print(f"trial {i + 1}/{trials}: return {r.episode_return:.1f}, {r.steps} steps, "
              f"{'success' if r.success else 'failure'}", flush=True)  # fmt: skip
    returns = np.array([r.episode_return for r in results])
    summary = {
        "run_dir": str(run_dir),
        "task": trainer.cfg.task,
        "method": trainer.cfg.method_label,
        "step": trainer.step,
        "trials": trials,
        "successes": int(sum(r.success for r in results)),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "experts": None if trainer.guide is None else [e.name for e in trainer.guide.experts],
        "per_trial": [asdict(r) for r in results],
    }
    atomic_write_text(run_dir / "eval_protocol.json", json.dumps(summary, indent=1) + "\n")
    return summary

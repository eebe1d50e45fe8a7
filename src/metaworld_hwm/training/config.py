"""The online trainer's configuration (frozen; resolved once, saved with every run)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METHODS = ("tdmpc2",)


@dataclass(frozen=True)
class TrainConfig:
    """What to train, for how long, and where the run lives."""

    task: str = "h1-stand"
    """Env name (``h1-walk``, ``gym:InvertedPendulum-v5``, ...)."""
    method: str = "tdmpc2"
    preset: str = "5m"
    """World-model size preset: tiny, 1m, 5m, 19m, 48m."""
    steps: int = 100_000
    """Env steps to train for."""
    seed: int = 1
    seed_steps: int | None = None
    """Random-action steps before learning; None: max(1000, 5 x episode length), at most a
    quarter of ``steps``."""
    utd: float = 1.0
    """Gradient updates per env step after the seed phase."""
    eval_every: int = 50_000
    eval_episodes: int = 10
    checkpoint_every: int = 10_000
    """Env steps between checkpoints; each is written at the end of the episode it falls in."""
    save_buffer: bool = False
    """Also save the replay buffer with each checkpoint (large), so a resume is exact."""
    buffer_size: int = 1_000_000
    max_episode_steps: int | None = None
    """Override the env's episode length (shorter episodes for quick runs)."""
    guidance_lambda: float = 0.0
    device: str | None = None
    run_dir: str | None = None
    """Default ``runs/<task>/<method>/<seed>``."""
    tensorboard: bool = True
    world_model: dict[str, Any] = field(default_factory=dict)
    """Overrides of WorldModelConfig fields, e.g. {"num_samples": 256}."""

    def __post_init__(self) -> None:
        checks = {
            "method": (self.method in METHODS, f"one of {', '.join(METHODS)}"),
            "steps": (self.steps > 0, "> 0"),
            "utd": (self.utd > 0, "> 0"),
            "eval_every": (self.eval_every > 0, "> 0"),
            "eval_episodes": (self.eval_episodes >= 0, ">= 0"),
            "checkpoint_every": (self.checkpoint_every > 0, "> 0"),
            "buffer_size": (self.buffer_size >= 2, ">= 2"),
            "guidance_lambda": (self.guidance_lambda >= 0, ">= 0"),
        }
        for name, (ok, accepted) in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is invalid; must be {accepted}")
        if self.seed_steps is not None and self.seed_steps < 0:
            raise ValueError(f"seed_steps={self.seed_steps} is invalid; must be >= 0")

    @property
    def resolved_run_dir(self) -> Path:
        """The run directory."""
        if self.run_dir is not None:
            return Path(self.run_dir)
        return Path("runs") / self.task.replace(":", "_") / self.method / str(self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable)."""
        return dataclasses.asdict(self)

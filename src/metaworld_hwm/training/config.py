"""The online trainer's configuration (frozen; resolved once, saved with every run)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

METHODS = ("tdmpc2", "metaworld")
ABLATIONS = ("no-vlm", "no-dynamic-selection", "no-guidance")
#: The paper's hyperparameters (section 4): tau 0.3, lambda 0.05, H 3, gamma 0.99, lr 1e-3,
#: batch 256, alpha 0.7, on the 5m world model.
PAPER_WORLD_MODEL = {"lr": 1e-3, "discount": 0.99, "horizon": 3, "batch_size": 256}
PAPER_GUIDANCE_LAMBDA = 0.05
#: Our defaults, chosen by `bench/guidance.py` (results/guidance/). With a dynamic expert (the
#: walker) the paper's lambda lets MPPI pick candidates the young world model rates higher,
#: and a few such steps break the gait; at lambda 20 the agent follows the expert until its
#: values say a departure is worth 20 x its squared size. The paper's plain blend (sharpness 1)
#: mixes 20-30% of other experts into the walker's action, which also breaks the gait.
METAWORLD_GUIDANCE_LAMBDA = 20.0
METAWORLD_FUSION_SHARPNESS = 4.0


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
    guidance_lambda: float | None = None
    """lambda of ||a - a_ref||^2; None: METAWORLD_GUIDANCE_LAMBDA for metaworld (the paper's
    is PAPER_GUIDANCE_LAMBDA, 0.05), 0 for tdmpc2 and the no-guidance ablation."""
    guidance_radius: float = 0.0
    """Trust region of guided MPPI: candidates within a_ref +- radius per action entry
    (0: none). Measured on h1-walk it makes the agent fall (results/guidance/)."""
    fusion_sharpness: float | None = None
    """metaworld only: power applied to the fused weights w~ (1: the paper's blend); None:
    METAWORLD_FUSION_SHARPNESS."""
    ablation: str | None = None
    """metaworld only: no-vlm, no-dynamic-selection or no-guidance (paper section 4.5)."""
    instruction: str | None = None
    """metaworld only: the task instruction (default: one per task)."""
    library: str | None = None
    """metaworld only: expert library directory (default: ./experts)."""
    planner: str = "embedded"
    """metaworld only: semantic planner backend (embedded, openai, llama)."""
    tau: float = 0.3
    alpha: float = 0.7
    device: str | None = None
    run_dir: str | None = None
    """Default ``runs/<task>/<method>/<seed>``."""
    async_updates: bool = False
    """Overlap each update with the next env step on the second core (AsyncLearner). Changes
    the algorithm slightly: actions are planned with weights one update old. Default off."""
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
            "guidance_lambda": (self.guidance_lambda is None or self.guidance_lambda >= 0,
                                ">= 0"),
            "ablation": (self.ablation in (None, *ABLATIONS)
                         and (self.ablation is None or self.method == "metaworld"),
                         f"one of {', '.join(ABLATIONS)}, with --method metaworld"),
            "guidance_radius": (self.guidance_radius >= 0, ">= 0"),
            "fusion_sharpness": (self.fusion_sharpness is None or self.fusion_sharpness >= 1,
                                 ">= 1"),
            "tau": (self.tau > 0, "> 0"),
            "alpha": (0.0 <= self.alpha <= 1.0, "in [0, 1]"),
        }
        for name, (ok, accepted) in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is invalid; must be {accepted}")
        if self.seed_steps is not None and self.seed_steps < 0:
            raise ValueError(f"seed_steps={self.seed_steps} is invalid; must be >= 0")

    @property
    def resolved_lambda(self) -> float:
        """The guidance weight lambda this run uses."""
        if self.guidance_lambda is not None:
            return self.guidance_lambda
        guided = self.method == "metaworld" and self.ablation != "no-guidance"
        return METAWORLD_GUIDANCE_LAMBDA if guided else 0.0

    @property
    def resolved_sharpness(self) -> float:
        """The fusion sharpness this run uses."""
        if self.fusion_sharpness is not None:
            return self.fusion_sharpness
        return METAWORLD_FUSION_SHARPNESS

    @property
    def method_label(self) -> str:
        """``metaworld``, ``metaworld-no-vlm``, ``tdmpc2``, ..."""
        return self.method if self.ablation is None else f"{self.method}-{self.ablation}"

    @property
    def resolved_run_dir(self) -> Path:
        """The run directory."""
        if self.run_dir is not None:
            return Path(self.run_dir)
        return Path("runs") / self.task.replace(":", "_") / self.method_label / str(self.seed)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable)."""
        return dataclasses.asdict(self)

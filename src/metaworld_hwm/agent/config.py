"""The run config: one frozen, typed record of what to train, how, and where the run lives.

It is the ``train`` section of every run's ``config.json`` and, field by field, the options of
``metaworld-hwm train`` (each field's docstring is its help text; see
:mod:`metaworld_hwm.training.cli`). Derived values (lambda, fusion sharpness, run directory)
are properties; what depends on the env is resolved by :func:`metaworld_hwm.agent.resolve`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import tyro
from tyro.constructors import PrimitiveConstructorSpec

from metaworld_hwm.agent.variants import (
    ABLATIONS,
    FULL,
    METHODS,
    PRESETS,
    Ablation,
    AblationName,
    Method,
)

PAPER_GUIDANCE_LAMBDA = 0.05
#: Our defaults, chosen by `bench/guidance.py` (results/guidance/) and the sweeps. With a
#: dynamic expert (the walker) the paper's lambda lets MPPI pick candidates the young world
#: model rates higher, and a few such steps break the gait; at lambda 100 the agent follows the
#: expert until its values say a departure is worth 100 x its squared size. 20 was enough for
#: the 1 m/s walker, not for the 3.3 m/s runner: on h1-run at 5000 steps 4/30 protocol trials
#: held 30 s at 20 and 28/30 at 100, with h1-walk and h1grip-door unchanged
#: (results/run_sweep/). The paper's plain blend (sharpness 1) mixes 20-30% of other experts
#: into the walker's action, which also breaks the gait.
METAWORLD_GUIDANCE_LAMBDA = 100.0
METAWORLD_FUSION_SHARPNESS = 4.0


def _override(args: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` (VALUE as JSON, else as text) as a one-entry dict."""
    key, sep, value = args[0].partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {args[0]!r}")
    try:
        return {key: json.loads(value)}
    except json.JSONDecodeError:
        return {key: value}


# A repeatable ``--set KEY=VALUE`` whose entries merge into one dict. tyro's public markers
# parse a dict as ``KEY VALUE`` pairs; ``_action="append"`` (tyro's own, pinned version) is
# how its UseAppendAction merges repeated dict options.
_WorldModelOverrides = Annotated[
    dict[str, Any],
    PrimitiveConstructorSpec(
        nargs=1, metavar="KEY=VALUE", instance_from_str=_override,
        is_instance=lambda value: isinstance(value, dict),
        str_from_instance=lambda d: [f"{k}={json.dumps(v)}" for k, v in d.items()],
        _action="append",
    ),
    tyro.conf.arg(name="set"),
]  # fmt: skip


@dataclass(frozen=True)
class RunConfig:
    """What to train, for how long, and where the run lives."""

    # Each field's docstring is the help of its `train` option: one line each (tyro keeps
    # line breaks).
    task: str = "h1-stand"
    """Env name, e.g. h1-walk or gym:Hopper-v5."""
    method: Method = "tdmpc2"
    """metaworld (guided by tiers 1 and 2), tdmpc2, or dreamerv3 (sheeprl)."""
    preset: str = "5m"
    """World model: tiny, 1m, 5m, 19m, 48m, or paper (5m, the paper's lr, gamma, batch, H)."""
    steps: int = 100_000
    """Env steps to train for."""
    seed: int = 1
    """Seed of every random draw of the run."""
    seed_steps: int | None = None
    """Random-action steps first; None: max(1000, 5 episodes), at most a quarter of steps."""
    utd: float = 1.0
    """Gradient updates per env step after the seed phase."""
    eval_every: int = 50_000
    """Env steps between evaluations."""
    eval_episodes: int = 10
    """Episodes per evaluation (0: none)."""
    checkpoint_every: int = 10_000
    """Env steps between checkpoints; each is written at the end of the episode it falls in."""
    save_buffer: bool = False
    """Also checkpoint the replay buffer (large), so that a resume is exact."""
    buffer_size: int = 1_000_000
    """Replay buffer capacity in transitions."""
    max_episode_steps: int | None = None
    """Override the env's episode length (shorter episodes for quick runs)."""
    guidance_lambda: float | None = None
    """lambda of ||a - a_ref||^2; None: 100 (metaworld), 0 (tdmpc2, no-guidance); paper 0.05."""
    # Measured on h1-walk, a trust region makes the agent fall (results/guidance/).
    guidance_radius: float = 0.0
    """Trust region of guided MPPI: candidates within a_ref +- radius per entry (0: none)."""
    fusion_sharpness: float | None = None
    """metaworld: power on the fused expert weights; None: 4 (1: the paper's blend)."""
    ablation: AblationName | None = None
    """metaworld ablation (paper section 4.5)."""
    instruction: str | None = None
    """metaworld: the task instruction; None: one per task."""
    library: str | None = None
    """metaworld: expert library directory; None: $METAWORLD_HWM_EXPERTS or ./experts."""
    planner: str = "embedded"
    """metaworld: semantic planner backend: embedded, openai or llama."""
    tau: float = 0.3
    """metaworld: softmax temperature of the plan."""
    alpha: float = 0.7
    """metaworld: weight of the semantic weights against the state-aware selection."""
    device: str | None = None
    """cpu, cuda, ...; None: cuda if present."""
    run_dir: str | None = None
    """Run directory; None: runs/<task>/<method>/<seed>."""
    # A slight change of the algorithm (AsyncLearner), so it is off by default.
    async_updates: bool = False
    """Learn on the second core while acting (plans with weights one update old)."""
    tensorboard: bool = True
    """Also log to TensorBoard."""
    world_model: _WorldModelOverrides = field(default_factory=dict)
    """Override a world-model field (WorldModelConfig), e.g. --set num_samples=256."""

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def ablation_settings(self) -> Ablation:
        """What this run's ablation takes away (nothing for the full agent)."""
        return FULL if self.ablation is None else ABLATIONS[self.ablation]

    @property
    def resolved_lambda(self) -> float:
        """The guidance weight lambda this run uses."""
        if self.guidance_lambda is not None:
            return self.guidance_lambda
        guided = self.method == "metaworld" and self.ablation_settings.guidance
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
        """Plain-data form (JSON-serialisable): the ``train`` section of ``config.json``."""
        return dataclasses.asdict(self)


def _validate(cfg: RunConfig) -> None:
    """ValueError naming the first invalid field and what it accepts."""
    checks = {
        "method": (cfg.method in METHODS, f"one of {', '.join(METHODS)}"),
        "preset": (cfg.preset in PRESETS, f"one of {', '.join(PRESETS)}"),
        "steps": (cfg.steps > 0, "> 0"),
        "seed_steps": (cfg.seed_steps is None or cfg.seed_steps >= 0, ">= 0"),
        "utd": (cfg.utd > 0, "> 0"),
        "eval_every": (cfg.eval_every > 0, "> 0"),
        "eval_episodes": (cfg.eval_episodes >= 0, ">= 0"),
        "checkpoint_every": (cfg.checkpoint_every > 0, "> 0"),
        "buffer_size": (cfg.buffer_size >= 2, ">= 2"),
        "guidance_lambda": (cfg.guidance_lambda is None or cfg.guidance_lambda >= 0, ">= 0"),
        "ablation": (cfg.ablation is None or (cfg.ablation in ABLATIONS
                                              and cfg.method == "metaworld"),
                     f"one of {', '.join(ABLATIONS)}, with --method metaworld"),
        "guidance_radius": (cfg.guidance_radius >= 0, ">= 0"),
        "fusion_sharpness": (cfg.fusion_sharpness is None or cfg.fusion_sharpness >= 1, ">= 1"),
        "tau": (cfg.tau > 0, "> 0"),
        "alpha": (0.0 <= cfg.alpha <= 1.0, "in [0, 1]"),
    }  # fmt: skip
    for name, (ok, accepted) in checks.items():
        if not ok:
            raise ValueError(f"{name}={getattr(cfg, name)!r} is invalid; must be {accepted}")

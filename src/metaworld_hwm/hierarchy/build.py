"""Assemble the MetaWorld guide for a training config: library, planner, fusion, ablation."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.hierarchy.guide import SkillGuide


class GuideSettings(Protocol):
    """What the guide is built from (a training config has these fields; the composition
    layer passes it without this package depending on training)."""

    task: str
    method: str
    ablation: str | None
    library: str | None
    alpha: float
    instruction: str | None
    planner: str
    tau: float
    seed: int

    @property
    def resolved_sharpness(self) -> float:
        """Power on the fused expert weights."""
        ...

#: Instruction used for a task when the run gives none.
DEFAULT_INSTRUCTIONS: dict[str, str] = {
    "stand": "stand still and keep your balance",
    "walk": "walk forward",
    "run": "run forward as fast as you can",
    "reach": "reach the target with your left hand",
    "door": "walk to the door and open it",
}
#: How each ablation changes the fusion (see FusionConfig.ablation).
FUSION_ABLATIONS = {
    None: "full",
    "no-vlm": "no_vlm",
    "no-dynamic-selection": "no_dynamic_selection",
    "no-guidance": "full",
}


def resolve_library(path: str | None) -> Path:
    """The expert library directory: the given path, ``$METAWORLD_HWM_EXPERTS``, ``./experts``,
    or the ``experts/`` folder of a source checkout."""
    from metaworld_hwm.skills.builtin import default_library_path

    candidates = [Path(path)] if path else [
        default_library_path(), Path(__file__).resolve().parents[3] / "experts"
    ]  # fmt: skip
    for candidate in candidates:
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"no expert library at {', '.join(map(str, candidates))}; pass --library DIR or build "
        "one with `metaworld-hwm experts add stand --library DIR`"
    )


def build_guide(cfg: GuideSettings, env: HumanoidEnv) -> SkillGuide:
    """The guide of ``cfg.method == "metaworld"`` (with ``cfg.ablation``) for ``env``."""
    from metaworld_hwm.semantic import make_planner
    from metaworld_hwm.skills import ExpertLibrary, FusionConfig

    if not isinstance(env.unwrapped, HumanoidEnv):
        raise ValueError(
            f"method 'metaworld' needs an H1 task (h1-stand, h1-walk, ...), got {cfg.task!r}"
        )
    library = ExpertLibrary.load(resolve_library(cfg.library))
    experts = [library[name] for name in library.names]
    overrides: dict[str, float] = {"sharpness": cfg.resolved_sharpness}
    if cfg.ablation != "no-dynamic-selection":
        overrides["alpha"] = cfg.alpha
    fusion = FusionConfig.ablation(FUSION_ABLATIONS[cfg.ablation], **overrides)
    instruction = cfg.instruction or DEFAULT_INSTRUCTIONS[env.unwrapped.task_name]
    planner = make_planner(cfg.planner, tau=cfg.tau)
    return SkillGuide(
        env.unwrapped, experts, planner, instruction, fusion, seed=cfg.seed
    )

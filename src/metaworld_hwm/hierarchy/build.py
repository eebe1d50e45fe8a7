"""Assemble the MetaWorld guide from explicit parts: an expert library, a planner, a fusion.

Which parts a run uses (its instruction, ablation, planner backend) is decided by the
composition layer, :mod:`metaworld_hwm.agent`.
"""

from __future__ import annotations

from pathlib import Path

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.hierarchy.adapters import ROBOTS_FOR
from metaworld_hwm.hierarchy.skill_guide import SkillGuide
from metaworld_hwm.semantic import make_planner
from metaworld_hwm.skills import ExpertLibrary, FusionConfig


def resolve_library(path: str | None, within: str | None = None) -> Path:
    """The expert library directory: the given path, ``$METAWORLD_HWM_EXPERTS``, ``./experts``,
    or the ``experts/`` folder of a source checkout.

    ``within``: without a path, the library of that name inside those (``door``:
    ``experts/door``), looked for in the same order.
    """
    from metaworld_hwm.skills.builtin import default_library_path

    candidates = [Path(path)] if path else [
        default_library_path() / (within or ""),
        Path(__file__).resolve().parents[3] / "experts" / (within or ""),
    ]  # fmt: skip
    for candidate in candidates:
        if (candidate / "manifest.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"no expert library at {', '.join(map(str, candidates))}; pass --library DIR or build "
        "one with `metaworld-hwm experts add stand --library DIR`"
    )


def build_guide(
    env: HumanoidEnv, library: str | None, instruction: str, fusion: FusionConfig,
    planner: str = "embedded", tau: float = 0.3, seed: int = 0,
) -> SkillGuide:  # fmt: skip
    """A guide for ``env`` over every expert of ``library`` (see :func:`resolve_library`) that
    can act on its robot, planning ``instruction`` with the ``planner`` backend at temperature
    ``tau``."""
    experts = ExpertLibrary.load(resolve_library(library))
    usable = [experts[name] for name in experts.names
              if env.robot in ROBOTS_FOR.get(experts[name].spec.robot, ())]  # fmt: skip
    return SkillGuide(
        env, usable, make_planner(planner, tau=tau),
        instruction, fusion, seed=seed,
    )  # fmt: skip

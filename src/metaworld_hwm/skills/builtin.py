"""Built-in experts: the analytic controllers this package can build, by skill name."""

from __future__ import annotations

import os
from pathlib import Path

from metaworld_hwm.skills.expert import AnalyticExpert, ExpertSpec
from metaworld_hwm.skills.reach import ReachController
from metaworld_hwm.skills.stand import StandController, build_stand_arrays

#: Env variable naming the default library directory (else ``./experts``).
LIBRARY_ENV = "METAWORLD_HWM_EXPERTS"
BUILTIN: tuple[str, ...] = ("stand", "reach")


def default_library_path() -> Path:
    """``$METAWORLD_HWM_EXPERTS`` or ``experts`` in the working directory."""
    return Path(os.environ.get(LIBRARY_ENV, "experts"))


def build_builtin(name: str) -> AnalyticExpert:
    """Design a built-in expert (~1 s): "stand" (LQR balance) or "reach" (arm IK + balance)."""
    if name not in BUILTIN:
        raise ValueError(f"no built-in expert {name!r}; built-in experts: {', '.join(BUILTIN)}")
    arrays = build_stand_arrays()
    if name == "stand":
        spec = ExpertSpec(
            name="stand", skill="stand", kind="analytic", controller="stand_lqr", robot="h1",
            task="h1-stand", obs_layout="qpos_qvel", obs_dim=51, action_dim=19,
            config={"design": "gain-scheduled LQR, keyframe to low-torque pose, 6 waypoints"},
        )  # fmt: skip
        return StandController(spec, arrays)
    spec = ExpertSpec(
        name="reach", skill="reach", kind="analytic", controller="reach_ik", robot="h1",
        task="h1-reach", obs_layout="qpos_qvel_hand_goal", obs_dim=57, action_dim=19,
        config={"design": "left-arm damped least-squares IK on the stand LQR"},
    )  # fmt: skip
    return ReachController(spec, arrays)

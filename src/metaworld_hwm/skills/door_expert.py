"""The door opener as a library expert: ``h1grip-door`` observations to its 21 actions.

:class:`DoorExpert` wraps :class:`~metaworld_hwm.skills.door.DoorOpener` (approach, grasp,
turn the hatch, pull, release and regrasp) behind the :class:`~metaworld_hwm.skills.expert.
Expert` interface, so the guide can fuse it with the other experts and tier 1 can hand it the
"open the door" sub-goal. It is self-contained: the library stores the networks of its
walkers (the legs for the approach and grasp, the legs that hold the door's load while
pulling, and optionally other legs for the pull past the lock, the sweep, and for the hold of
the opened door) under ``legs.``, ``pull_legs.``, ``sweep_legs.`` and ``hold_legs.``, with
their specs and the opener's settings in its config, so it loads without the libraries it
was built from.

Like the walkers it is stateful: :meth:`DoorExpert.reset` at every episode start restarts its
stages; it acts for one robot at a time (the opener's stages are per episode). Tier 1 runs it
as three sub-goals, :data:`DOOR_STAGES` (grasp the hatch, turn it, pull the door open): the
guide commands the active one (``set_command(stage=...)``) and the opener goes no further
than that stage until the next sub-goal begins.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import numpy as np

from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.expert import (
    CONTROLLERS,
    AnalyticExpert,
    Expert,
    ExpertSpec,
    register_controller,
)
from metaworld_hwm.skills.walk import WalkExpert

DOOR_DESCRIPTION = (
    "Open a door: grasp its handle with the gripper, turn the latch and pull the door open."
)
_PARTS = ("legs", "pull_legs")
#: Optional parts: without the first the pull legs also walk the sweep, without the second
#: the sweep legs also hold the opened door.
_SWEEP_PART, _HOLD_PART = "sweep_legs", "hold_legs"
#: The opener's stages as tier 1's sub-goals: (the opener's stage limit, the sub-goal's text,
#: whose completion condition `semantic.conditions.infer_condition` reads from the task).
DOOR_STAGES = (
    ("grasp", "grasp the door's hatch"),
    ("turn", "turn the hatch to unlock the door"),
    ("pull", "pull the door open"),
)


@register_controller
class DoorExpert(AnalyticExpert):
    """Open HumanoidBench's door on ``h1grip`` (see the module docstring).

    Args:
        spec: the expert's spec (robot ``h1grip``, layout ``qpos_qvel_door``, 63 -> 21).
        legs: walker for the approach and the grasp stages.
        pull_legs: walker that holds a hand load, for the pull.
        config: the opener's stances, speeds and forces.
        sweep_legs: walker for the pull past the lock (default: ``pull_legs``).
        hold_legs: walker for the rest of that pull once the door is open (default:
            ``sweep_legs``).
    """

    controller_name = "door_opener"
    command_fields = ("stage",)
    stages = DOOR_STAGES

    def __init__(
        self, spec: ExpertSpec, legs: WalkExpert, pull_legs: WalkExpert,
        config: DoorOpenerConfig | None = None, sweep_legs: WalkExpert | None = None,
        hold_legs: WalkExpert | None = None,
    ) -> None:  # fmt: skip
        super().__init__(spec)
        self.opener = DoorOpener(legs, pull_legs, config, sweep_legs=sweep_legs,
                                 hold_legs=hold_legs)  # fmt: skip
        if spec.obs_dim != self.opener.model.nq + self.opener.model.nv:
            raise ValueError(
                f"door expert {spec.name!r}: obs_dim {spec.obs_dim} is not h1grip-door's "
                f"{self.opener.model.nq + self.opener.model.nv}"
            )

    def __copy__(self) -> DoorExpert:
        """A copy with its own opener state (the guide's ``spawn`` copies experts per user:
        training and evaluation episodes must not share one opener)."""
        twin = object.__new__(DoorExpert)
        twin.__dict__.update(self.__dict__)
        twin.opener = copy.copy(self.opener)
        return twin

    def set_command(self, **command: float | str | None) -> None:
        """``stage``: the last of :data:`DOOR_STAGES` the opener may reach (None: all)."""
        super().set_command(**command)
        if "stage" in command:
            self.opener.stage_limit = command["stage"]  # validated by the opener

    @property
    def stage(self) -> str:
        """The opener's current stage (approach, pregrasp, grasp, turn, pull, release)."""
        return self.opener.stage

    @classmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> DoorExpert:
        """Rebuild from :meth:`arrays` and ``spec.config`` (the walkers' specs, the opener's
        settings); a missing part raises ValueError (the sweep's and the hold's legs are
        optional)."""
        parts = _PARTS + tuple(p for p in (_SWEEP_PART, _HOLD_PART) if p in spec.config)
        walkers = {}
        for part in parts:
            entry = spec.config.get(part)
            if entry is None:
                raise ValueError(f"door expert {spec.name!r}: its config has no {part!r} spec")
            prefix = f"{part}."
            weights = {k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}
            part_spec = ExpertSpec(**entry)
            walker_class = CONTROLLERS.get(part_spec.controller, WalkExpert)
            if not issubclass(walker_class, WalkExpert):
                raise ValueError(f"door expert {spec.name!r}: its {part} is a "
                                 f"{part_spec.controller!r}, not a command walker")
            walkers[part] = walker_class.from_arrays(part_spec, weights)
        config = DoorOpenerConfig.from_settings(spec.config.get("opener", {}))
        return cls(spec, walkers["legs"], walkers["pull_legs"], config,
                   sweep_legs=walkers.get(_SWEEP_PART), hold_legs=walkers.get(_HOLD_PART))

    def reset(self, batch_size: int = 1) -> None:
        """Restart the opener at its approach stage (one robot only)."""
        if batch_size != 1:
            raise ValueError(f"door expert {self.name!r} acts for one robot, not {batch_size}")
        self.opener.reset()

    def _act(self, obs: np.ndarray) -> np.ndarray:
        if obs.shape[0] != 1:
            raise ValueError(
                f"door expert {self.name!r} acts for one robot at a time, got {obs.shape[0]}"
            )
        return self.opener.act(obs[0])[None]

    def arrays(self) -> dict[str, np.ndarray]:
        opener = self.opener
        walkers = {"legs": opener.legs, "pull_legs": opener.pull_legs}
        if opener.sweep_legs is not opener.pull_legs:
            walkers[_SWEEP_PART] = opener.sweep_legs
        if opener.hold_legs is not opener.sweep_legs:
            walkers[_HOLD_PART] = opener.hold_legs
        out: dict[str, np.ndarray] = {}
        for part, walker in walkers.items():
            out |= {f"{part}.{k}": v for k, v in walker.arrays().items()}
        return out


def build_door_expert(
    legs: Expert, pull_legs: Expert, name: str = "door",
    config: DoorOpenerConfig | None = None, sweep_legs: Expert | None = None,
    hold_legs: Expert | None = None,
) -> DoorExpert:  # fmt: skip
    """A door expert from library walkers: ``walk``, the hand-load ``pull`` and, optionally,
    legs trained on the door's sweep (``door-pull``; default: the pull legs sweep too) and
    legs trained on the hold of the opened door (default: the sweep's legs hold it).

    Raises:
        ValueError: one is not a command walker (:class:`WalkExpert`).
    """
    legs, pull_legs = _walker("legs", legs), _walker("pull_legs", pull_legs)
    sweep = None if sweep_legs is None else _walker(_SWEEP_PART, sweep_legs)
    hold = None if hold_legs is None else _walker(_HOLD_PART, hold_legs)
    config = config or DoorOpenerConfig()
    parts = {"legs": _spec_entry(legs.spec), "pull_legs": _spec_entry(pull_legs.spec)}
    for part, walker in ((_SWEEP_PART, sweep), (_HOLD_PART, hold)):
        if walker is not None:
            parts[part] = _spec_entry(walker.spec)
    spec = ExpertSpec(
        name=name, skill="reach", kind="analytic", controller=DoorExpert.controller_name,
        robot="h1grip", task="h1grip-door", obs_layout="qpos_qvel_door", obs_dim=63,
        action_dim=21, description=DOOR_DESCRIPTION,
        config={
            "design": "staged opener: walk up, grasp IK, turn the hatch, pull (J^T F), regrasp",
            **parts, "opener": dataclasses.asdict(config),
        },
    )  # fmt: skip
    return DoorExpert(spec, legs, pull_legs, config, sweep_legs=sweep, hold_legs=hold)


def _walker(part: str, expert: Expert) -> WalkExpert:
    """``expert`` if it is a command walker, else a ValueError naming the part."""
    if not isinstance(expert, WalkExpert):
        raise ValueError(
            f"the door expert's {part} must be a command walker (e.g. 'walk', 'pull'); "
            f"{expert.name!r} is a {type(expert).__name__}"
        )
    return expert


def _spec_entry(spec: ExpertSpec) -> dict[str, Any]:
    """An :class:`ExpertSpec` as JSON-ready keyword arguments."""
    entry = dataclasses.asdict(spec)
    entry["psi"] = list(entry["psi"])
    return entry

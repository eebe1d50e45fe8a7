"""The door opener's settings (:class:`DoorOpenerConfig`): stances, timings, forces, gains.

Kept apart from :mod:`metaworld_hwm.skills.door` because the command lines (``experts train
--opener-set``, ``experts add door --opener-set``) and the benches build and check them
without an opener.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, fields

from metaworld_hwm.envs.robot import LEFT_ARM
from metaworld_hwm.envs.tasks.door import DOOR_STOP_RAD

#: Settings that count control steps: at least 1.
_STEP_COUNTS = ("pregrasp_steps", "regrasp_steps", "grasp_steps", "release_steps")
#: Settings that must be above 0.
_POSITIVE = ("stance_tolerance", "hatch_turn", "turn_rate", "position_gain",
             "pull_position_gain", "grasp_ready", "lost_grasp", "arm_step")  # fmt: skip
#: Settings that must be 0 or more.
_NON_NEGATIVE = ("pregrasp_distance", "pull_force", "bar_slide", "sweep_extra_force",
                 "hold_gain", "hold_damping", "hold_integral_gain", "ik_bias_gain")  # fmt: skip
#: Door angles (rad), within the hinge's range.
_DOOR_ANGLES = ("unlocked_door", "relock_door", "regrasp_door", "hold_door",
                "hold_heading_door")  # fmt: skip
#: Checked settings that may also be None (off, or another setting's value).
_OPTIONAL = ("regrasp_steps", "hold_door", "hold_heading_door")


@dataclass(frozen=True)
class DoorOpenerConfig:
    """Stances, speeds and forces of :class:`DoorOpener` (m, rad, s, N)."""

    stance: tuple[float, float] = (0.1, 0.0)
    """Pelvis (x, y) from which the arm grasps the closed door's hatch."""
    stance_tolerance: float = 0.05
    pregrasp_distance: float = 0.12
    pregrasp_steps: int = 170
    """Control steps the open gripper takes onto the bar: the last 120 bring it in from
    ``pregrasp_distance`` over 100 steps and wait 20 at the bar (fewer start nearer)."""
    regrasp_steps: int | None = None
    """The same for a pregrasp once the door is past the lock (the regrasp after the release,
    from which the sweep starts; None: ``pregrasp_steps``)."""
    grasp_steps: int = 40
    hatch_turn: float = 1.2
    unlocked_door: float = 0.3
    """Door angle (rad) past which the lock tab is clear of the frame (it clears at 0.275):
    the turned hatch is let go there, the door settles on the tab in front of the frame, and
    the lever is grasped again at rest for the rest of the pull."""
    sweep_stance: tuple[float, float, float] | None = (-0.12, -0.01, 0.27)
    """Past the lock: pelvis (x, y) and heading from which the arm grasps the lever again and
    starts to sweep the door open (None: the pelvis follows the hatch back)."""
    sweep_stance_open: tuple[float, float, float] = (-0.46, -0.31, 0.35)
    """The stance when the door is at 0.9 rad; the pelvis moves from ``sweep_stance`` toward it
    in proportion to the door's angle while sweeping (at a fixed stance the elbow reaches its
    limit at ~0.6 rad: the hatch comes too near)."""
    relock_door: float = 0.25
    """Door angle (rad) below which a door seen past the lock counts as locked again (the tab
    catches the frame anywhere in 0.02..0.275 rad)."""
    release_at_unlock: bool = True
    """Let go of the turned lever once the door is past the lock (the ``release`` stage, then
    the regrasp at rest). False: hold on, the arm turning the lever back to rest, and the
    pull goes on into the sweep from the unlocking grasp (no release, no second pregrasp and
    grasp: ~210 steps sooner; ``results/door/README.md``, session 22)."""
    release_steps: int = 40
    """Control steps the opened gripper backs off the bar before the regrasp."""
    regrasp_door: float = 0.05
    """Door angle (rad) past which the grasp stages stand where the pull does (behind the
    hatch, facing the door's arc) instead of at ``stance``."""
    turn_rate: float = 0.5
    pull_force: float = 60.0
    """Largest pull along the door's arc at the grasp point (N)."""
    hatch_offset: tuple[float, float] = (0.47, 0.28)
    """Pelvis position behind the hatch (x, y in the robot's heading frame) while pulling."""
    heading_follow: float = 1.1
    """Robot heading while pulling, per radian of door angle (1: face the door's arc, so the
    door's pull stays in front of the robot)."""
    position_gain: float = 1.5
    """Walk command (m/s) per metre between the pelvis and its stance."""
    pull_position_gain: float = 5.4
    """The same while pulling: the door's load pushes the pelvis off its stance, and at 1.5
    the legs let it drift ~0.15 m back, out of the arm's reach."""
    grasp_ready: float = 0.02
    """How near the gripper's pocket (m) the bar must be before the gripper closes."""
    lost_grasp: float = 0.08
    """How far out of the gripper's pocket (m) the bar counts as lost (:meth:`DoorOpener.
    grasp_offset`)."""
    bar_slide: float = 0.07
    """How far the hand may slide along the bar (m) before the grasp counts as lost."""
    sweep_extra_force: float = 70.0
    """Added to ``pull_force`` in proportion to the sweep's progress (0 at the lock, all of it
    at 0.9 rad): the door's spring grows with its angle (50 N m/rad, ~50 N at the hatch at
    0.9 rad), and a pull with a surplus carries it on. With the sweep legs trained on the
    door (``experts/door_sweep``'s ``door-pull``), 34 -> 70 took 20 seeds from 2 to 11 opened
    (mean door max 0.80 -> 0.84); with the hand-load ``pull`` legs it does not (0/20)."""
    hold_door: float | None = None
    """Door angle (rad) at which the sweep holds the door: its pull along the arc is at most
    the door's spring torque at its angle over the grasp's radius, plus ``hold_gain`` per
    radian short of this angle, less ``hold_damping`` per rad/s of the door's swing, so the
    door stops there instead of being pulled on until the arm runs out of reach and the bar
    slips (the door then swings back to the lock tab). With the sweep walker trained to hold
    (``experts train --open-reward``, ``door-hold``) the door stays open ~140 steps against
    ~60 (``results/door/README.md``, session 18); the hold alone keeps it no longer. None:
    pull on."""
    hold_gain: float = 300.0
    """N per radian of door angle short of ``hold_door``."""
    hold_damping: float = 100.0
    """N per rad/s of the door's opening speed: less pull while it swings open, more while it
    swings shut."""
    hold_integral_gain: float = 0.0
    """N per rad s of the time integral of the door's angle short of ``hold_door``, from the
    step the door has opened (``DOOR_OPEN_RAD``) to the pull's end, added to the holding
    pull (kept between 0 and the sweep's largest pull). Without it the held door sags
    ~0.1-0.2 rad below ``hold_door`` and swings there (``results/door/README.md``, session
    24). 0: no integral."""
    hold_heading_door: float | None = None
    """Door angle (rad) from which the sweep's heading command is the pelvis's yaw when the
    door first reached it, for the rest of the pull, instead of the stance's heading. The
    held door is lost when the body turns toward that heading (the torso's yaw joint is at
    its limit, so the hand turns with it; ``results/door/README.md``, session 20). None: the
    stance's heading throughout."""
    use_torso: bool = True
    """The grasp IK moves the torso's yaw joint with the arm: its servo (kp 300, 200 N m)
    turns the shoulder along the door's arc and takes the load the arm's 18 N m elbow and
    shoulder yaw cannot, and it makes up for the body's yaw under the load."""
    arm_step: float = 0.04
    """Largest change of an arm joint target per control step (rad)."""
    ik_bias_pose: tuple[float, ...] | None = None
    """From the first pull on, the grasp IK's free motion is drawn toward this pose (torso
    yaw, then the left shoulder's pitch, roll and yaw, then the elbow; needs ``use_torso``).
    The first pull forks the IK ~20 steps in (the elbow rising or falling), and the sweep
    opens the door from one branch only: ``(-1.7, 1.0, 0.9, 2.2, 2.0)`` puts every seed
    there. With the legs-only sweep that opened 0/10 bench seeds (5/10 without it); with
    the arm residuals' sweep (``door-arm``) it opens 47/50, against 35/50 without it: on the
    other branch the door's leaf meets the elbow after the release (``results/door/``,
    2026-12-07). The door expert uses it. None: the least-change IK alone."""
    ik_bias_gain: float = 0.05
    """Share of the gap to ``ik_bias_pose`` closed per IK iteration, in the free motion."""

    def __post_init__(self) -> None:
        checks = [(name, "a whole number >= 1",
                   lambda v: isinstance(v, numbers.Integral) and v >= 1)
                  for name in _STEP_COUNTS]  # fmt: skip
        checks += [(name, "a number > 0", lambda v: v > 0) for name in _POSITIVE]
        checks += [(name, "a number >= 0", lambda v: v >= 0) for name in _NON_NEGATIVE]
        checks += [(name, f"an angle in [0, {DOOR_STOP_RAD}] rad",
                    lambda v: 0.0 <= v <= DOOR_STOP_RAD) for name in _DOOR_ANGLES]  # fmt: skip
        for name, wanted, valid in checks:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            number = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not (number and valid(value)):
                raise ValueError(f"opener setting {name}={value!r}: must be {wanted}")
        if self.ik_bias_pose is not None and len(self.ik_bias_pose) != len(self.ik_joints):
            raise ValueError(
                f"ik_bias_pose needs {len(self.ik_joints)} joint angles (torso yaw with "
                f"use_torso, then {', '.join(LEFT_ARM)}), got {len(self.ik_bias_pose)}"
            )

    @property
    def ik_joints(self) -> tuple[str, ...]:
        """The joints the grasp IK moves: the torso's yaw with ``use_torso``, then the left arm."""
        return (("torso",) if self.use_torso else ()) + LEFT_ARM

    @classmethod
    def from_settings(cls, settings: dict[str, object]) -> DoorOpenerConfig:
        """A config from JSON-read settings (lists become the fields' tuples).

        Raises:
            ValueError: a name that is not a field.
        """
        unknown = sorted(set(settings) - {f.name for f in fields(cls)})
        if unknown:
            known = ", ".join(f.name for f in fields(cls))
            raise ValueError(f"no DoorOpenerConfig field(s) {', '.join(unknown)}; the fields "
                             f"are {known}")  # fmt: skip
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})

    @classmethod
    def from_overrides(cls, overrides: Sequence[str]) -> DoorOpenerConfig:
        """The default config with ``FIELD=JSON`` overrides (a command line's), e.g.
        ``["sweep_extra_force=85", "sweep_stance_open=[-0.46,-0.31,0.0]"]``.

        Raises:
            ValueError: an override that is not ``FIELD=JSON`` or names no field.
        """
        settings = {}
        for override in overrides:
            name, equals, text = override.partition("=")
            try:
                if not equals:
                    raise ValueError
                settings[name] = json.loads(text)
            except ValueError:  # json.JSONDecodeError is one
                raise ValueError(f"opener setting {override!r} is not FIELD=JSON, e.g. "
                                 "sweep_extra_force=85 or use_torso=false") from None  # fmt: skip
        return cls.from_settings(settings)

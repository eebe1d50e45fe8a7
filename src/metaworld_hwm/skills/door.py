"""Opening HumanoidBench's door with the ``h1grip`` robot: approach, grasp, turn, pull.

The door is locked by its hatch: the hatch's lock tab on the far face sits behind the frame, so
the door jams at ~0.025 rad unless the hatch is turned to >= 0.9 rad (at 0.8 it jams at 0.125
rad; ``tests/envs/test_door_lock.py``), and the turn must be held until the door has swung
past 0.275 rad (with the hatch below 0.9 the tab catches anywhere in 0.02..0.275 rad). The
hatch lever, 0.2 m long, is grasped 0.10 m from its axle (nearer the end, the turned lever is
nearly vertical and the hand slides off it). The door's spring needs ~52 N at the hatch at
0.9 rad; the walk expert's legs give way at ~20 N, so the pull uses legs trained to hold a
hand load (``experts train --objective hand-load``).

:class:`DoorOpener` runs these stages in closed loop from the task's observation:

- ``approach``: the legs' walk command steers the pelvis to a stance in front of the door;
- ``pregrasp``: the left arm's IK (:class:`~metaworld_hwm.skills.gripper_arm.GripperArm`)
  brings the open gripper onto the hatch bar (where the lever rests) along the palm's own
  axis, so the bar enters between the fingers; it ends once the bar is in the gripper's
  pocket;
- ``grasp``: the gripper closes (its lips hook behind the bar);
- ``turn``: the grasp point follows the bar around the hatch axle to ``hatch_turn``;
- ``pull``: the arm pushes along the door's arc with ``pull_force`` (joint torques J^T F on
  top of the servo targets) while the pelvis follows the hatch back; a lost bar goes back to
  ``pregrasp`` with the gripper opened;
- ``release`` (with ``release_at_unlock``, the default; without it the pull goes on from
  the unlocking grasp, the arm turning the lever back to rest): once the door is past the
  lock the turned lever (nearly vertical, the hand slides down it) is let go: the gripper
  opens and backs off, the hatch springs back, the door settles on the lock tab in front of
  the frame (~0.28 rad), and the lever is grasped again at rest and pulled without a turn,
  the pelvis holding ``sweep_stance`` while the arm alone sweeps the door (walking back
  after the hatch, the body yawed away from the door).

A stage limit (:attr:`DoorOpener.stage_limit`: ``approach``, ``grasp``, ``turn``, ``pull`` or
None) holds the opener at that stage: tier 1 runs grasp, turn and pull as sub-goals of their
own, each done on the task's signals, and a lost grasp while turning goes back to the grasp.

Legs are a command walker (:class:`~metaworld_hwm.skills.walk.WalkExpert`): its command is a
proportional step toward the stance, so any walker in the library (``walk``, or one trained
to hold a load) can carry the body. Each part of the pull can have its own: ``pull_legs``
before the lock, ``sweep_legs`` past it, and ``hold_legs`` once the sweep has brought the door
to ``DOOR_OPEN_RAD``, for the rest of that pull (e.g. legs trained on the hold alone,
``experts train --objective door-sweep --start-door 0.9``); the walker taking over goes on
from the gait clock of the one before.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import CONTROL_DT, GRIPPER_RANGE, robot_state_indices
from metaworld_hwm.envs.scene import build_model
from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.gripper_arm import GripperArm
from metaworld_hwm.skills.locomotion import yaw_of
from metaworld_hwm.skills.sweep_arm import ArmSweepWalker
from metaworld_hwm.skills.walk import WalkExpert

#: The grasp point on the hatch bar in the hatch's frame (m): the front bar, 0.10 m from the
#: axle (HumanoidBench door.xml: bar at x = -0.141, spanning y = -0.2..0).
BAR_GRASP = np.array([-0.141, -0.10, 0.0])
#: The hatch's hinge in the door body's frame, and the door's hinge.
HATCH_IN_DOOR = np.array([0.0, 0.4, 1.2])
DOOR_HINGE_IN_DOOR = np.array([-0.05, -0.5, 0.0])
#: How far along the sequence each stage is; a stage limit blocks any step to a later rank
#: (a lost grasp, back to ``pregrasp``, is always allowed).
STAGE_RANK = {"approach": 0, "pregrasp": 1, "grasp": 1, "turn": 2, "pull": 3, "release": 3}
STAGE_LIMITS = ("approach", "grasp", "turn", "pull")
#: :class:`DoorOpener`'s per-episode attributes (:meth:`DoorOpener.episode_state`).
_EPISODE_FIELDS = ("stage", "stage_steps", "_stage_limit", "arm_ref", "grip", "unlocked",
                   "hatch_rest", "held_heading", "holding", "hold_integral")  # fmt: skip
#: Episode fields newer than some saved states (a PPO checkpoint's envs), with their value at
#: an episode's start: such a state resumes with it.
_NEWER_EPISODE_FIELDS = {"held_heading": None, "holding": False, "hold_integral": 0.0}


class DoorOpener:
    """Closed-loop door opening on ``h1grip-door`` (module docstring).

    Args:
        legs: command walker for the approach and the grasp stages.
        pull_legs: walker for the pull (default: ``legs``).
        config: stances, speeds and forces.
        sweep_legs: walker for the pull past the lock, the sweep (default: ``pull_legs``),
            e.g. legs trained on the sweep itself (:mod:`~metaworld_hwm.skills.door_ppo`).
        hold_legs: walker for the rest of the sweep once the door is open (default:
            ``sweep_legs``).
    """

    def __init__(
        self, legs: WalkExpert, pull_legs: WalkExpert | None = None,
        config: DoorOpenerConfig | None = None, sweep_legs: WalkExpert | None = None,
        hold_legs: WalkExpert | None = None,
    ) -> None:  # fmt: skip
        self.legs, self.pull_legs = legs, pull_legs or legs
        self.sweep_legs = sweep_legs or self.pull_legs
        self.hold_legs = hold_legs or self.sweep_legs
        self.config = config or DoorOpenerConfig()
        self.model = build_model("h1grip", "door")
        self.arm = GripperArm(self.model, joint_names=self.config.ik_joints)
        m = self.model
        self._robot_qpos, self._robot_dof = robot_state_indices(m)
        self._door_qpos = int(m.jnt_qposadr[m.joint("door_hinge").id])
        self._door_dof = int(m.jnt_dofadr[m.joint("door_hinge").id])
        self._door_stiffness = float(m.jnt_stiffness[m.joint("door_hinge").id])
        self._hatch_qpos = int(m.jnt_qposadr[m.joint("door_hatch_hinge").id])
        self._door = m.body("door").id
        self._hatch = m.body("door_hatch").id
        self._gripper = m.actuator("left_gripper").id
        self._ctrlrange = m.actuator_ctrlrange.copy()
        self.reset()

    def reset(self) -> None:
        """Start a new episode at the approach stage."""
        self.stage, self.stage_steps = "approach", 0
        self._stage_limit: str | None = None
        self.arm_ref: np.ndarray | None = None
        self.grip = 0.0
        self.unlocked = False
        self.hatch_rest = 0.0
        self.held_heading: float | None = None
        self.holding = False
        #: Time integral (rad s) of the door's angle short of ``hold_door`` since it opened.
        self.hold_integral = 0.0
        for walker in self._walkers():
            walker.reset(1)

    def _walkers(self) -> tuple[WalkExpert, ...]:
        """The approach, pull, sweep and hold walkers (the same walker once, however many
        roles)."""
        walkers = (self.legs, self.pull_legs, self.sweep_legs, self.hold_legs)
        return tuple({id(w): w for w in walkers}.values())

    def __copy__(self) -> DoorOpener:
        """An opener with its own episode state (stages, the walkers' clocks and commands,
        the IK's scratch data) sharing the model, settings and the walkers' weights."""
        twin = object.__new__(DoorOpener)
        twin.__dict__.update(self.__dict__)
        twins = {id(w): copy.copy(w) for w in self._walkers()}
        twin.legs, twin.pull_legs = twins[id(self.legs)], twins[id(self.pull_legs)]
        twin.sweep_legs, twin.hold_legs = twins[id(self.sweep_legs)], twins[id(self.hold_legs)]
        twin.arm = GripperArm(self.model, self.arm.iterations, self.arm.joint_names,
                              self.arm.side)
        twin.reset()
        return twin

    def episode_state(self) -> dict[str, object]:
        """Everything :meth:`act` carries between steps (stage, arm reference, gripper, the
        walkers' commands and gait clocks), copied: a snapshot to resume an episode from."""
        state = {name: copy.deepcopy(getattr(self, name)) for name in _EPISODE_FIELDS}
        for key, walker in self._roles():
            state[key] = (walker.command, walker.clock.copy())
        return state

    def _roles(self) -> tuple[tuple[str, WalkExpert], ...]:
        """Each walker role with its walker."""
        return (("legs", self.legs), ("pull_legs", self.pull_legs),
                ("sweep_legs", self.sweep_legs), ("hold_legs", self.hold_legs))  # fmt: skip

    def load_episode_state(self, state: dict[str, object]) -> None:
        """Resume from :meth:`episode_state` (the scene's physics is restored separately)."""
        for name in _EPISODE_FIELDS:
            value = state[name] if name in state else _NEWER_EPISODE_FIELDS[name]
            setattr(self, name, copy.deepcopy(value))
        for key, walker in self._roles():  # a state saved before the hold role: the sweep's
            walker.command, clock = state[key if key in state else "sweep_legs"]  # type: ignore[misc]
            walker.clock = np.array(clock, copy=True)

    @property
    def stage_limit(self) -> str | None:
        """The last stage the opener may reach (one of :data:`STAGE_LIMITS`; None: all)."""
        return self._stage_limit

    @stage_limit.setter
    def stage_limit(self, limit: str | None) -> None:
        if limit is not None and limit not in STAGE_LIMITS:
            raise ValueError(f"door stage limit {limit!r} is not one of {STAGE_LIMITS} or None")
        self._stage_limit = limit

    def door_angle(self, obs: np.ndarray) -> float:
        """Door hinge angle (rad) in an observation."""
        return float(obs[self._door_qpos])

    def hatch_angle(self, obs: np.ndarray) -> float:
        """Hatch hinge angle (rad) in an observation."""
        return float(obs[self._hatch_qpos])

    def grasp_target(self, hatch_angle: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World grasp point on the front bar, the bar's direction and the door's hinge, for
        the door pose last loaded with ``opener.arm.set_pose(qpos)`` and the hatch turned to
        ``hatch_angle`` (rad)."""
        d = self.arm.data
        door_rot = d.xmat[self._door].reshape(3, 3)
        c, s = np.cos(hatch_angle), np.sin(hatch_angle)
        turn = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
        point = d.xpos[self._door] + door_rot @ (HATCH_IN_DOOR + turn @ BAR_GRASP)
        bar = door_rot @ turn @ np.array([0.0, -1.0, 0.0])
        return point, bar, d.xpos[self._door] + door_rot @ DOOR_HINGE_IN_DOOR

    def _sweep_share(self, door: float) -> float:
        """How far the sweep has gone at door angle ``door``: 0 at the lock (or before it is
        unlocked), 1 at the opened angle."""
        cfg = self.config
        if not self.unlocked:
            return 0.0
        share = (door - cfg.unlocked_door) / (DOOR_OPEN_RAD - cfg.unlocked_door)
        return float(np.clip(share, 0.0, 1.0))

    def _sweep_stance(self, door: float) -> tuple[np.ndarray, float]:
        """Pelvis goal (2,) and heading past the lock: ``sweep_stance`` while grasping,
        moving toward ``sweep_stance_open`` with the door's angle while pulling."""
        cfg = self.config
        start, end = np.asarray(cfg.sweep_stance), np.asarray(cfg.sweep_stance_open)
        share = self._sweep_share(door) if self.stage == "pull" else 0.0
        stance = start + share * (end - start)
        return stance[:2], float(stance[2])

    def _sweep_heading(self, door: float, qpos: np.ndarray, heading: float) -> float:
        """The sweep's heading command: ``heading`` (the stance's), or with
        ``hold_heading_door`` the pelvis yaw (of ``qpos``) at the step the door first reached
        that angle in this pull (:attr:`held_heading`, forgotten when the pull ends)."""
        bar = self.config.hold_heading_door
        if bar is None or self.stage != "pull":
            return heading
        if self.held_heading is None and door >= bar:
            self.held_heading = float(yaw_of(qpos[None, 3:7])[0])
        return heading if self.held_heading is None else self.held_heading

    def _walk_action(self, legs: WalkExpert, robot_obs: np.ndarray, goal: np.ndarray,
                     qpos: np.ndarray, heading: float) -> np.ndarray:  # fmt: skip
        cfg = self.config
        gain = cfg.pull_position_gain if self.stage == "pull" else cfg.position_gain
        legs.steer_to(qpos, goal, gain, heading, max_forward=0.6)
        return legs.act(robot_obs[None])[0]

    def _advance(self, obs: np.ndarray, grip_gap: float, stance_error: float) -> None:
        before = (self.stage, self.stage_steps + 1, self.grip)
        self._next_stage(obs, grip_gap, stance_error)
        limit = self._stage_limit
        if limit is not None and STAGE_RANK[self.stage] > STAGE_RANK[limit]:
            self.stage, self.stage_steps, self.grip = before  # held at the limit
        if self.stage in ("pregrasp", "grasp"):
            self.hatch_rest = self.hatch_angle(obs)  # the lever is grasped where it rests

    def _next_stage(self, obs: np.ndarray, grip_gap: float, stance_error: float) -> None:
        cfg = self.config
        self.stage_steps += 1
        door = self.door_angle(obs)
        if door < cfg.relock_door:  # swung back into the lock's reach
            self.unlocked = False
        was_unlocked, self.unlocked = self.unlocked, self.unlocked or door >= cfg.unlocked_door
        if self.stage != "pull" or not self.unlocked:
            self.held_heading, self.holding, self.hold_integral = None, False, 0.0
        if self.stage in ("turn", "pull") and grip_gap > cfg.lost_grasp:
            self.stage, self.stage_steps, self.grip = "pregrasp", 0, 0.0
        elif self.stage == "approach" and stance_error < cfg.stance_tolerance \
                and self.stage_steps > 30:  # fmt: skip
            self.stage, self.stage_steps = "pregrasp", 0
        elif self.stage == "pregrasp" and self.stage_steps > self._pregrasp_steps() \
                and grip_gap < cfg.grasp_ready:  # fmt: skip
            # a bar not yet between the fingers (a door still swinging) is followed on
            self.stage, self.stage_steps = "grasp", 0
        elif self.stage == "grasp" and self.stage_steps > cfg.grasp_steps:
            self.stage, self.stage_steps = ("pull" if self.unlocked else "turn"), 0
        elif self.stage == "turn" and self.stage_steps > self._turn_steps() + 20:
            self.stage, self.stage_steps = "pull", 0
        elif self.stage == "pull" and self.unlocked and not was_unlocked \
                and cfg.release_at_unlock:  # fmt: skip
            self.stage, self.stage_steps, self.grip = "release", 0, 0.0
        elif self.stage == "release" and self.stage_steps > cfg.release_steps:
            self.stage, self.stage_steps = "pregrasp", 0

    def _pregrasp_steps(self) -> int:
        """Control steps of the pregrasp now: ``regrasp_steps`` once the door is unlocked."""
        cfg = self.config
        if self.unlocked and cfg.regrasp_steps is not None:
            return cfg.regrasp_steps
        return cfg.pregrasp_steps

    def _turn_steps(self) -> float:
        """Control steps the turn to ``hatch_turn`` takes at ``turn_rate``."""
        return self.config.hatch_turn / (self.config.turn_rate * CONTROL_DT)

    def grasp_offset(self) -> float:
        """How far the bar is out of the gripper's pocket (m), from the last observation's
        kinematics: its distance across the fingers (palm x and z), or its slide along them
        beyond ``bar_slide`` (the hand may slide along the bar, toward its end)."""
        d = self.arm.data
        bar_point = d.xpos[self._hatch] + d.xmat[self._hatch].reshape(3, 3) @ BAR_GRASP
        palm = d.xmat[self.arm.palm].reshape(3, 3)
        x, y, z = palm.T @ (bar_point - d.site_xpos[self.arm.grip])
        return max(float(np.hypot(x, z)), abs(float(y)) - self.config.bar_slide)

    def hatch_target(self) -> float:
        """The hatch angle the arm holds at this stage (rad): turned until the door is past
        the lock, at rest once it is (the turned lever hangs nearly vertical and the hand
        slides down it; the lever at rest is pulled square to its length)."""
        cfg = self.config
        if self.stage == "turn":
            turned = self.hatch_rest + self.stage_steps * cfg.turn_rate * CONTROL_DT
            return min(cfg.hatch_turn, turned)
        if self.stage == "release" or (self.stage == "pull" and not self.unlocked):
            return cfg.hatch_turn
        return self.hatch_rest

    def act(self, obs: np.ndarray, clip: bool = True) -> np.ndarray:
        """The action (21,) for one ``h1grip-door`` observation (63,); ``clip=False``: the
        servo targets as computed, some past the actuators' range, for a caller that adds to
        them and clips after (as the opener does with an arm sweep walker's residuals)."""
        cfg = self.config
        nq = self.model.nq
        qpos, qvel = obs[:nq], obs[nq:]
        robot_obs = np.concatenate([qpos[self._robot_qpos], qvel[self._robot_dof]])
        self.arm.set_pose(qpos)
        grip_gap = self.grasp_offset()
        door = self.door_angle(obs)
        point, bar, hinge = self.grasp_target(self.hatch_target())
        heading = 0.0
        if self.unlocked and cfg.sweep_stance is not None and self.stage != "approach":
            goal, heading = self._sweep_stance(door)
            heading = self._sweep_heading(door, qpos, heading)
        elif self.stage == "pull" or (self.stage != "approach" and door >= cfg.regrasp_door):
            heading = cfg.heading_follow * door
            c, s = np.cos(heading), np.sin(heading)
            goal = point[:2] - np.array([[c, -s], [s, c]]) @ np.asarray(cfg.hatch_offset)
        else:
            goal = np.asarray(cfg.stance)
        legs = self.legs
        if self.stage == "pull":
            legs = self._pull_walker(door)
        if isinstance(legs, ArmSweepWalker):
            legs.context = self.arm_context(qpos, qvel)[None]
        action = np.zeros(self.model.nu)
        action[:19] = self._walk_action(legs, robot_obs, goal, qpos, heading)
        if self.stage != "approach":
            door_speed = float(qvel[self._door_dof])
            action = self._arm_action(action, qpos, door, door_speed, point, bar, hinge)
        if isinstance(legs, ArmSweepWalker):
            action = self.add_arm_residual(action, legs.arm_residual[0])
        if self.stage in ("grasp", "turn", "pull"):
            self.grip = min(GRIPPER_RANGE[1], self.grip + 0.0015)
        action[self._gripper] = self._normalised(self._gripper, self.grip)
        self._advance(obs, grip_gap, float(np.linalg.norm(goal - qpos[:2])))
        return np.clip(action, -1.0, 1.0) if clip else action

    def _pull_walker(self, door: float) -> WalkExpert:
        """The walker of the pull now: ``pull_legs`` before the lock, ``sweep_legs`` past it,
        ``hold_legs`` from the step the door reaches ``DOOR_OPEN_RAD`` to the pull's end (taking
        over the sweep walker's gait clock)."""
        if not self.unlocked:
            return self.pull_legs
        if not self.holding and door >= DOOR_OPEN_RAD:
            self.holding = True
            self.hold_legs.clock = self.sweep_legs.clock.copy()  # the gait goes on
        return self.hold_legs if self.holding else self.sweep_legs

    def _arm_action(
        self, action: np.ndarray, qpos: np.ndarray, door: float, door_speed: float,
        point: np.ndarray, bar: np.ndarray, hinge: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        cfg = self.config
        biased = cfg.ik_bias_pose is not None and (self.stage == "pull" or self.unlocked)
        bias = np.asarray(cfg.ik_bias_pose) if biased else None
        solution = self.arm.solve(qpos, point, bar, bias, cfg.ik_bias_gain)
        back_off = 0.0  # share of pregrasp_distance, along the palm axis of the holding pose
        if self.stage == "pregrasp":
            back_off = np.clip((self._pregrasp_steps() - 20 - self.stage_steps) / 100, 0.0, 1.0)
        elif self.stage == "release":  # open, then back off along the palm: the lever springs back
            back_off = np.clip((self.stage_steps - 10) / 20, 0.0, 1.0)
        if back_off > 0.0:
            target = point - cfg.pregrasp_distance * back_off * self.arm.palm_axis()
            solution = self.arm.solve(qpos, target, bar, bias, cfg.ik_bias_gain)
        current = qpos[self.arm.qpos_adr]
        if self.arm_ref is None:
            self.arm_ref = current.copy()
        self.arm_ref = self.arm_ref + np.clip(solution - self.arm_ref, -cfg.arm_step, cfg.arm_step)
        force = np.zeros(3)
        if self.stage == "pull":
            radius = point[:2] - hinge[:2]
            reach = float(np.linalg.norm(radius))
            tangent = np.array([-radius[1], radius[0], 0.0]) / reach
            pull = cfg.pull_force + self._sweep_share(door) * cfg.sweep_extra_force
            if self.unlocked and cfg.hold_door is not None:
                self._integrate_hold(door)
                pull = min(pull, self.holding_pull(door, door_speed, reach))
            force = pull * tangent
        offsets = self.arm.servo_offsets(qpos, self.arm_ref, force)
        for k, actuator in enumerate(self.arm.actuators):
            action[actuator] = self._normalised(actuator, self.arm_ref[k] + offsets[k])
        return action

    def _integrate_hold(self, door: float) -> None:
        """Advance :attr:`hold_integral` by one control step once the door has opened (with
        ``hold_integral_gain``), kept between 0 and what makes the sweep's largest pull."""
        cfg = self.config
        assert cfg.hold_door is not None
        if self.holding and cfg.hold_integral_gain > 0.0:
            cap = (cfg.pull_force + cfg.sweep_extra_force) / cfg.hold_integral_gain
            shortfall = (cfg.hold_door - door) * CONTROL_DT
            self.hold_integral = float(np.clip(self.hold_integral + shortfall, 0.0, cap))

    def holding_pull(self, door: float, door_speed: float, reach: float) -> float:
        """The pull (N, >= 0) at ``reach`` m from the hinge that holds the door at
        ``hold_door``: its spring's torque, a spring-damper toward that angle, and
        ``hold_integral_gain`` times :attr:`hold_integral`."""
        cfg = self.config
        assert cfg.hold_door is not None
        spring = self._door_stiffness * door / reach
        integral = cfg.hold_integral_gain * self.hold_integral
        return max(0.0, spring + integral + cfg.hold_gain * (cfg.hold_door - door)
                   - cfg.hold_damping * door_speed)  # fmt: skip

    def arm_context(self, qpos: np.ndarray, qvel: np.ndarray) -> np.ndarray:
        """What an :class:`~metaworld_hwm.skills.sweep_arm.ArmSweepWalker` reads of the arm and
        the door (scene ``qpos``, ``qvel``): the arm joints' offsets from the opener's
        reference (zero before it has one), their velocities, the door's angle and velocity."""
        joints = qpos[self.arm.qpos_adr]
        offsets = joints - self.arm_ref if self.arm_ref is not None else np.zeros_like(joints)
        return np.r_[offsets, qvel[self.arm.dof_adr], qpos[self._door_qpos], qvel[self._door_dof]]

    def add_arm_residual(self, action: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """``action`` with ``residual`` (rad, one per arm joint) added to the arm's servo
        targets."""
        low, high = self._ctrlrange[self.arm.actuators].T
        out = action.copy()
        out[self.arm.actuators] += 2.0 * residual / (high - low)
        return out

    def _normalised(self, actuator: int, target: float) -> float:
        low, high = self._ctrlrange[actuator]
        return 2.0 * (target - low) / (high - low) - 1.0


@dataclass
class DoorEpisode:
    """One :class:`DoorOpener` episode on ``h1grip-door`` (:func:`run_door_episode`)."""

    stages: list[tuple[str, int]] = field(default_factory=list)
    """Each stage the opener entered, with the step it began."""
    door: float = 0.0
    """The door's largest hinge angle (rad)."""
    hatch: float = 0.0
    """The hatch's largest angle (rad)."""
    fell: bool = False
    task_return: float = 0.0
    final_stage: str = "approach"
    opened_at: int | None = None
    """The first step after which the door stood at ``DOOR_OPEN_RAD`` or more (None: never)."""
    open_steps: int = 0
    """Steps after which the door stood at ``DOOR_OPEN_RAD`` or more."""
    door_angles: list[float] = field(default_factory=list)
    """The door's hinge angle (rad) after each step."""
    pelvis_poses: list[tuple[float, float, float]] = field(default_factory=list)
    """The pelvis's x, y (m) and yaw (rad) after each step."""

    @property
    def opened(self) -> bool:
        """The protocol's success: the door reached ``DOOR_OPEN_RAD`` and the robot stood."""
        return self.door >= DOOR_OPEN_RAD and not self.fell


class EpisodeDriver(Protocol):
    """What acts in :func:`run_door_episode` in the opener's place, e.g. a guide fusing the
    door expert that holds the opener."""

    def start(self, obs: np.ndarray) -> None:
        """Begin the episode at its first observation."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The action (21,) for an observation (63,)."""

    def observe(self, obs: np.ndarray, info: dict[str, Any]) -> None:
        """Hear the step's new observation and the task's ``info``."""

    def stage(self) -> str:
        """The label :attr:`DoorEpisode.stages` records now."""


def run_door_episode(
    opener: DoorOpener, seed: int, steps: int = 1000,
    watch: Callable[[HumanoidEnv, float], None] | None = None,
    driver: EpisodeDriver | None = None,
) -> DoorEpisode:  # fmt: skip
    """Run ``opener`` for one ``h1grip-door`` episode from ``seed`` (``steps`` control steps,
    or until a fall); ``watch(env, door_angle)`` is called after every step. With a
    ``driver`` the driver acts (``opener`` is the one it runs, read for the angles)."""
    env = HumanoidEnv("h1grip", "door", max_episode_steps=steps)
    obs, _ = env.reset(seed=seed)
    opener.reset()
    if driver is not None:
        driver.start(obs)
    episode = DoorEpisode()
    for t in range(steps):
        stage = opener.stage if driver is None else driver.stage()
        if not episode.stages or episode.stages[-1][0] != stage:
            episode.stages.append((stage, t))
        action = opener.act(obs) if driver is None else driver.act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        if driver is not None:
            driver.observe(obs, info)
        episode.task_return += float(reward)
        door = opener.door_angle(obs)
        episode.door_angles.append(door)
        yaw = float(yaw_of(obs[None, 3:7])[0])
        episode.pelvis_poses.append((float(obs[0]), float(obs[1]), yaw))
        episode.door = max(episode.door, door)
        if door >= DOOR_OPEN_RAD:
            episode.open_steps += 1
            episode.opened_at = t if episode.opened_at is None else episode.opened_at
        episode.hatch = max(episode.hatch, opener.hatch_angle(obs))
        if watch is not None:
            watch(env, door)
        if terminated or truncated:
            episode.fell = bool(terminated)
            break
    env.close()
    episode.final_stage = opener.stage
    return episode

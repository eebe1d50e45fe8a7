"""Adapters: the task's observation rearranged into what each expert reads, and each expert's
action widened to what the robot takes.

Experts are made for one robot and observation layout (``qpos_qvel``: the H1's qpos then qvel;
``qpos_qvel_hand_goal``: that plus the left hand's position and a target; ``qpos_qvel_door``:
a whole ``h1grip-door`` observation). Task observations differ: the door appends its two hinges
to qpos *and* to qvel, and ``h1grip`` puts its finger joints after each elbow, so a plain prefix
would hand the stand expert the door angle as a joint velocity. An adapter picks the H1's
entries by address and, for the reach layout, supplies the target the task implies: the reach
goal in ``reach``, the hatch handle (from the door's hinge angle) in ``door``, and the hand's
own position (hold still) elsewhere. An H1 expert acts on ``h1grip`` with both grippers held
open (:func:`make_action_adapter`); an ``h1grip`` expert acts only on ``h1grip``.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import robot_state_indices
from metaworld_hwm.envs.scene import build_model
from metaworld_hwm.skills import ExpertSpec

ROBOT_NQ, ROBOT_NV = 26, 25
#: The robots an expert made for the key can act on.
ROBOTS_FOR: dict[str, tuple[str, ...]] = {"h1": ("h1", "h1grip"), "h1grip": ("h1grip",)}
# Door geometry (HumanoidBench door.xml): hinge axis through (0.75, -0.5, z) about z, the
# hatch 0.05 m in front of and 0.9 m along the door from it, at 1.2 m.
_HINGE_XY = np.array([0.75, -0.5])
_HATCH_FROM_HINGE = np.array([0.05, 0.9])
_HATCH_Z = 1.2

Adapter = Callable[[np.ndarray], np.ndarray]


def hatch_position(door_angle: np.ndarray) -> np.ndarray:
    """World position (N, 3) of the door hatch for door hinge angles (N,)."""
    c, s = np.cos(door_angle), np.sin(door_angle)
    dx, dy = _HATCH_FROM_HINGE
    x = _HINGE_XY[0] + c * dx - s * dy
    y = _HINGE_XY[1] + s * dx + c * dy
    return np.stack([x, y, np.full_like(x, _HATCH_Z)], axis=-1)


class _LeftHand:
    """Forward kinematics of the left hand site from robot qpos (a scratch MjData)."""

    def __init__(self) -> None:
        self.model = build_model("h1", "stand")
        self.data = mujoco.MjData(self.model)
        self.site = self.model.site("left_hand").id

    def __call__(self, qpos: np.ndarray) -> np.ndarray:
        out = np.empty((qpos.shape[0], 3))
        for i, q in enumerate(qpos):
            self.data.qpos[:] = q
            mujoco.mj_kinematics(self.model, self.data)
            out[i] = self.data.site_xpos[self.site]
        return out


def _robot_indices(env: HumanoidEnv) -> tuple[np.ndarray, np.ndarray]:
    """Addresses of the H1's qpos (26) and qvel (25) entries in ``env``'s observation."""
    qpos, dof = robot_state_indices(env.model)
    return qpos, env.model.nq + dof


def make_adapter(env: HumanoidEnv, spec: ExpertSpec) -> Adapter:
    """A function from task observations (N, D) to what the expert of ``spec`` reads.

    Raises:
        ValueError: the expert's robot cannot act on the env's, or its layout is unknown.
    """
    if env.robot not in ROBOTS_FOR.get(spec.robot, ()):
        raise ValueError(
            f"expert {spec.name!r} is made for robot {spec.robot!r}, which cannot act on this "
            f"env's {env.robot!r}; use an env of robot {spec.robot!r}"
        )
    task, layout = env.task_name, spec.obs_layout
    if layout == "qpos_qvel_door":
        if task != "door":
            raise ValueError(f"expert {spec.name!r} reads a door task's observation, not {task!r}")
        return lambda obs: obs
    qpos_index, qvel_index = _robot_indices(env)

    def robot_state(obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs[:, qpos_index], obs[:, qvel_index]], axis=1)

    if layout == "qpos_qvel":
        return robot_state
    if layout != "qpos_qvel_hand_goal":
        raise ValueError(
            f"no adapter for expert layout {layout!r}; known: qpos_qvel, qpos_qvel_hand_goal, "
            "qpos_qvel_door"
        )
    if task == "reach":  # h1 only: h1grip has no reach task
        return lambda obs: obs
    hand = _LeftHand()
    door_qpos = int(env.model.jnt_qposadr[env.model.joint("door_hinge").id]) if task == "door" \
        else -1  # fmt: skip

    def with_goal(obs: np.ndarray) -> np.ndarray:
        state = robot_state(obs)
        hand_pos = hand(state[:, :ROBOT_NQ])
        goal = hatch_position(obs[:, door_qpos]) if task == "door" else hand_pos
        return np.concatenate([state, hand_pos, goal], axis=1)

    return with_goal


def make_action_adapter(env: HumanoidEnv, spec: ExpertSpec) -> Callable[[np.ndarray], np.ndarray]:
    """A function from the expert's actions (N, spec.action_dim) to the env's (N, A): an H1
    expert on ``h1grip`` holds both grippers open (normalised -1, the open end of their range).

    Raises:
        ValueError: the expert's actions do not fit the env's robot.
    """
    width = int(env.action_space.shape[0])
    if spec.action_dim == width:
        return lambda actions: actions
    if spec.robot == "h1" and env.robot == "h1grip":
        gripper = [env.model.actuator(f"{side}_gripper").id for side in ("left", "right")]
        h1_index = np.setdiff1d(np.arange(width), gripper)

        def widened(actions: np.ndarray) -> np.ndarray:
            out = np.full((actions.shape[0], width), -1.0, dtype=actions.dtype)
            out[:, h1_index] = actions
            return out

        return widened
    raise ValueError(
        f"expert {spec.name!r} outputs {spec.action_dim} actions; env robot {env.robot!r} takes "
        f"{width}"
    )

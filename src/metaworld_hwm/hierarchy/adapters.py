"""Observation adapters: the task's observation rearranged into what each expert reads.

Experts are made for one observation layout (``qpos_qvel``: the robot's qpos then qvel;
``qpos_qvel_hand_goal``: that plus the left hand's position and a target). Task observations
differ: the door appends its two hinges to qpos *and* to qvel, so a plain prefix would hand the
stand expert the door angle as a joint velocity. An adapter picks the robot's entries by
address and, for the reach layout, supplies the target the task implies: the reach goal in
``reach``, the hatch handle (from the door's hinge angle) in ``door``, and the hand's own
position (hold still) elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.scene import build_model

ROBOT_NQ, ROBOT_NV = 26, 25
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


def make_adapter(env: HumanoidEnv, layout: str) -> Adapter:
    """A function from task observations (N, D) to an expert's observations for ``layout``.

    Raises:
        ValueError: the robot is not ``h1`` or the layout is unknown.
    """
    if env.robot != "h1":
        raise ValueError(f"experts act on robot 'h1'; this env's robot is {env.robot!r}")
    nq = env.model.nq
    task = env.task_name

    def robot_state(obs: np.ndarray) -> np.ndarray:
        return np.concatenate([obs[:, :ROBOT_NQ], obs[:, nq : nq + ROBOT_NV]], axis=1)

    if layout == "qpos_qvel":
        return robot_state
    if layout != "qpos_qvel_hand_goal":
        raise ValueError(
            f"no adapter for expert layout {layout!r}; known: qpos_qvel, qpos_qvel_hand_goal"
        )
    if task == "reach":
        return lambda obs: obs
    hand = _LeftHand()

    def with_goal(obs: np.ndarray) -> np.ndarray:
        state = robot_state(obs)
        hand_pos = hand(obs[:, :ROBOT_NQ])
        goal = hatch_position(obs[:, ROBOT_NQ]) if task == "door" else hand_pos
        return np.concatenate([state, hand_pos, goal], axis=1)

    return with_goal

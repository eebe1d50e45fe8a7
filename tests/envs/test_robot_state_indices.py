"""The H1's own state inside scenes that hold more (grippers, a door)."""

import numpy as np

from metaworld_hwm.envs import make_env
from metaworld_hwm.envs.robot import robot_state_indices


def test_robot_state_indices_pick_the_h1s_state_out_of_any_scene() -> None:
    plain = make_env("h1-walk", reset_noise=0.0)
    qpos, dof = robot_state_indices(plain.model)
    np.testing.assert_array_equal(qpos, np.arange(26))  # the H1 alone: all of it
    np.testing.assert_array_equal(dof, np.arange(25))
    door = make_env("h1grip-door", reset_noise=0.0)
    qpos, dof = robot_state_indices(door.model)
    assert door.model.nq > 26 and door.model.nv > 25  # fingers and door joints besides
    plain.reset(seed=0)
    door.reset(seed=0)
    np.testing.assert_array_equal(door.data.qpos[qpos], plain.data.qpos)  # the same body
    hinge = door.model.joint("door_hinge")
    assert hinge.qposadr[0] not in qpos and hinge.dofadr[0] not in dof
    assert len(set(qpos)) == 26 and len(set(dof)) == 25

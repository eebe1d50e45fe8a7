"""Equilibrium and LQR design pieces of the stand expert."""

from __future__ import annotations

import mujoco
import numpy as np

from metaworld_hwm.envs import HumanoidEnv
from metaworld_hwm.skills.balance import (
    LOW_TORQUE_POSE,
    LQRWeights,
    equilibrium,
    lqr_gain,
    quat_difference,
)


def test_quat_difference_matches_mujoco() -> None:
    rng = np.random.default_rng(0)
    q_ref, q = rng.standard_normal((2, 8, 4))
    q_ref /= np.linalg.norm(q_ref, axis=1, keepdims=True)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    ours = quat_difference(q_ref, q)
    for i in range(8):
        expected = np.zeros(3)
        mujoco.mju_subQuat(expected, q[i], q_ref[i])
        np.testing.assert_allclose(ours[i], expected, atol=1e-9)


def test_equilibrium_needs_no_force_on_the_floating_base() -> None:
    model = HumanoidEnv(robot="h1", task="stand").model
    eq = equilibrium(model, LOW_TORQUE_POSE)
    data = mujoco.MjData(model)
    data.qpos[:] = eq.qpos
    mujoco.mj_inverse(model, data)
    assert abs(data.qfrc_inverse[2]) < 1e-3  # weight carried by the contacts (N)
    assert abs(data.qfrc_inverse[4]) < 1e-3  # no pitch moment (N m)
    holding = data.qfrc_inverse[model.jnt_dofadr[model.actuator_trnid[:, 0]]]
    knees_hips_ankles = holding[[2, 3, 4, 7, 8, 9]]
    assert np.abs(knees_hips_ankles).max() < 10.0  # under small_control's margin
    gain = lqr_gain(model, eq, LQRWeights())
    assert gain.shape == (19, 50)
    assert np.all(gain[:, [0, 1, 5]] == 0)  # root x, y, yaw get no feedback

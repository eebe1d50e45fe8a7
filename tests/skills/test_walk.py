"""Single support on H1 (skills.gait): no flat-foot posture puts the COM over the stance sole."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs import HumanoidEnv
from metaworld_hwm.skills.gait import SOLE_HALF_WIDTH, best_single_support


@pytest.fixture(scope="module")
def support():
    return best_single_support(lift=0.05)


def test_the_best_posture_meets_its_constraints(support) -> None:
    model = HumanoidEnv(robot="h1", task="walk").model
    data = mujoco.MjData(model)
    data.qpos[:] = support.qpos
    mujoco.mj_kinematics(model, data)
    stance = data.site("left_foot")
    assert abs(stance.xmat[8]) > 0.999  # sole flat
    assert support.swing_height >= 0.05 - 1e-3
    joints = support.qpos[7:]
    low, high = model.jnt_range[1:].T
    assert np.all(joints >= low - 1e-9) and np.all(joints <= high + 1e-9)
    assert np.allclose(joints[10:], 0.0)  # torso and arms held


def test_h1_cannot_hold_its_com_over_one_flat_foot(support) -> None:
    # The reason the library has no quasi-static walk expert: the COM stays medial of the sole.
    assert support.lateral_gap > 0.02
    assert -support.com_offset[1] > SOLE_HALF_WIDTH + 0.02

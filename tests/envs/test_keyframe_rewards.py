"""Reward terms at the standing keyframe against values derived by hand, and against
HumanoidBench's own numbers for the hold-pose rollout."""

import math

import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs import HumanoidEnv, make_env
from metaworld_hwm.envs.robot import JOINT_NAMES

# Keyframe geometry, from the reference sheet: hands at (0.3285, +-0.21353, 1.07661), head
# 1.68 m, imu x -0.04452. Door hatch body at (0.8, 0.4, 1.2).
LEFT_HAND = np.array([0.3285, 0.21353, 1.07661])
RIGHT_HAND = np.array([0.3285, -0.21353, 1.07661])
HATCH = np.array([0.8, 0.4, 1.2])


def at_keyframe_holding(name: str) -> HumanoidEnv:
    """Exact keyframe, servos aimed at the current joint angles: zero actuator force."""
    env = make_env(name, reset_noise=0.0)
    env.reset(seed=0)
    model, data = env.model, env.data
    for i, joint in enumerate(JOINT_NAMES):
        data.ctrl[i] = data.qpos[model.jnt_qposadr[model.joint(joint).id]]
    mujoco.mj_forward(model, data)
    return env


def test_keyframe_geometry_matches_humanoidbench() -> None:
    env = at_keyframe_holding("h1-door")
    assert env.physics.head_height() == pytest.approx(1.68, abs=1e-6)
    np.testing.assert_allclose(env.physics.left_hand_position(), LEFT_HAND, atol=1e-5)
    np.testing.assert_allclose(env.physics.right_hand_position(), RIGHT_HAND, atol=1e-5)
    np.testing.assert_allclose(env.physics.imu_position(), [-0.04452, -0.01891, 1.25756], atol=1e-6)
    np.testing.assert_allclose(env.data.subtree_com[1], [0.0281, 0.0010, 0.9466], atol=1e-4)


def test_stand_terms_at_keyframe() -> None:
    env = at_keyframe_holding("h1-stand")
    reward, info = env.task.reward(env.physics)
    # head 1.68 >= 1.65, torso upright, no force, no velocity: every term is 1.
    assert info == pytest.approx(
        {"standing": 1, "upright": 1, "stand_reward": 1, "small_control": 1, "dont_move": 1}
    )
    assert reward == pytest.approx(1.0)


@pytest.mark.parametrize("task", ["walk", "run"])
def test_locomotion_at_rest_earns_one_sixth(task: str) -> None:
    env = at_keyframe_holding(f"h1-{task}")
    reward, info = env.task.reward(env.physics)
    assert info["move"] == 0.0
    assert reward == pytest.approx(1 / 6)


def test_door_terms_at_keyframe() -> None:
    env = at_keyframe_holding("h1-door")
    reward, info = env.task.reward(env.physics)
    closest = min(np.linalg.norm(HATCH - LEFT_HAND), np.linalg.norm(HATCH - RIGHT_HAND))
    proximity = 1 - 0.9 * (closest - 0.25)  # linear, margin 1, value at margin 0.1
    assert closest == pytest.approx(0.52183, abs=1e-4)
    assert info["door_openness_reward"] == 0.0
    assert info["door_hatch_openness_reward"] == pytest.approx(0.1)  # angle 0: d = 1
    assert info["hand_hatch_proximity_reward"] == pytest.approx(proximity, abs=1e-4)
    assert info["passage_reward"] == 0.0  # imu x = -0.045 < 0.2
    assert reward == pytest.approx(0.1 + 0.05 * 0.1 + 0.05 * proximity, abs=1e-5)


def test_reach_terms_at_keyframe() -> None:
    env = at_keyframe_holding("h1-reach")
    env.task.goal = LEFT_HAND + np.array([0.03, 0.0, 0.0])
    reward, info = env.task.reward(env.physics)
    assert info["hand_dist"] == pytest.approx(0.03, abs=1e-4)
    assert info["healthy_reward"] == pytest.approx(5.0)
    assert reward == pytest.approx(5.0 + 5.0 + 10.0)


def test_hold_pose_rollout_matches_humanoidbench() -> None:
    """HumanoidBench, exact keyframe, hold action: step-1 reward 0.1714806 (walk family) and
    the pelvis first below 0.5 m at step 73. Our H1 uses Menagerie's meshes, not
    HumanoidBench's copies, so contacts differ slightly: 0.5% on the first reward."""
    env = make_env("h1-walk", reset_noise=0.0)
    env.reset(seed=0)
    low, high = env.model.actuator_ctrlrange.T
    key_joints = env.model.key_qpos[0][7:26]
    hold = 2 * (key_joints - low) / (high - low) - 1
    _, first_reward, *_ = env.step(hold)
    assert first_reward == pytest.approx(0.1714806, rel=0.005)
    fall_step = next(
        t for t in range(2, 200) if env.step(hold) and env.physics.pelvis_height() < 0.5
    )
    assert fall_step == 73
    assert math.isfinite(first_reward)

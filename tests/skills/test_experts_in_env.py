"""The committed analytic experts acting in their H1 tasks (short CI versions of the bench)."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs import make_env
from metaworld_hwm.skills.library import ExpertLibrary

LIBRARY = ExpertLibrary.load(Path(__file__).resolve().parents[2] / "experts")


def rollout(expert, env, steps: int, push_at: int = -1, force=(0.0, 0.0, 0.0)) -> tuple[float, int]:
    """Return and steps survived; ``force`` (N) pushes the torso for 0.1 s from ``push_at``."""
    obs, _ = env.reset(seed=0)
    torso = env.unwrapped.model.body("torso_link").id
    data = env.unwrapped.data
    total = 0.0
    for t in range(steps):
        data.xfrc_applied[torso, :3] = force if push_at <= t < push_at + 5 else 0.0
        obs, reward, terminated, _, _ = env.step(expert.act(obs))
        total += reward
        if terminated:
            return total, t
    return total, steps


@pytest.mark.parametrize("force", [(100.0, 0.0, 0.0), (-100.0, 0.0, 0.0), (0.0, 100.0, 0.0)])
def test_stand_survives_a_100_newton_push(force: tuple[float, float, float]) -> None:
    total, survived = rollout(LIBRARY["stand"], make_env("h1-stand"), 300, 150, force)
    assert survived == 300
    assert total / 300 > 0.9  # HumanoidBench's success bar is 0.8 per step


def test_reach_brings_the_hand_to_a_reachable_goal() -> None:
    env = make_env("h1-reach", seed=0)
    env.reset(seed=0)
    goal = np.array([0.3, 0.2, 1.0])
    env.unwrapped.task.goal = goal
    env.unwrapped.data.mocap_pos[0] = goal
    obs = env.unwrapped.task.observe(env.unwrapped.physics)
    expert = LIBRARY["reach"]
    for _ in range(150):
        obs, _, _, _, info = env.step(expert.act(obs))
    assert info["hand_dist"] < 0.05
    assert env.unwrapped.data.qpos[2] > 0.9  # still standing


def test_reach_holds_a_raised_arm_against_gravity() -> None:
    """The goal is where the hand is with the arm raised forward (shoulder pitch -1.2): the
    servo targets must carry the arm's weight, or it stalls ~20 cm short."""
    env = make_env("h1-reach", seed=0)
    env.reset(seed=0)
    base = env.unwrapped
    data = mujoco.MjData(base.model)
    data.qpos[:] = base.data.qpos
    data.qpos[7 + 11] = -1.2  # left shoulder pitch
    mujoco.mj_kinematics(base.model, data)
    goal = data.site("left_hand").xpos.copy()
    base.task.goal = goal
    base.data.mocap_pos[0] = goal
    obs = base.task.observe(base.physics)
    for _ in range(150):
        obs, _, _, _, info = env.step(LIBRARY["reach"].act(obs))
    assert info["hand_dist"] < 0.03

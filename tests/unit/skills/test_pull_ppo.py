"""The hand-load walking objective: reward, loads sent at episode starts, curriculum rule."""

from __future__ import annotations

import numpy as np

from metaworld_hwm.envs.vector import VectorStep
from metaworld_hwm.skills.pull_ppo import HOLD_ARM_POSE, LoadCurriculum, LoadedWalkObjective


def _step(signals: np.ndarray, done: np.ndarray) -> VectorStep:
    n = len(signals)
    return VectorStep(np.zeros((n, 51)), np.zeros(n), done, np.zeros(n, bool), signals)


def test_reward_tracks_the_commanded_velocity_both_ways() -> None:
    objective = LoadedWalkObjective(LoadCurriculum())
    rng = np.random.default_rng(0)
    objective.start(3, np.zeros((3, 51)), rng)
    objective.command = np.array([[-0.3, 0.0], [-0.3, 0.0], [0.0, 0.1]])
    signals = np.array([[-0.3, 0.0, 1.0, 1.0, 0.0], [0.2, 0.0, 1.0, 1.0, 0.0],
                        [0.0, 0.1, 0.8, 0.5, 0.0]])
    reward = objective.reward(_step(signals, np.zeros(3, bool)))
    np.testing.assert_allclose(reward[[0, 2]], [1.0, 0.4])  # exact tracking: the stand terms
    assert reward[1] < 0.3  # 0.5 m/s off
    # one load per env at the start, then only for episodes that just began
    method, rows = objective.env_calls()
    assert method == "set_load" and len(rows) == 3 and objective.env_calls() is None
    objective.after_step(_step(signals, np.array([False, True, False])), rng)
    _, rows = objective.env_calls()
    assert rows[0] is None and rows[2] is None
    force, onset, ramp = rows[1]
    assert 0 <= np.linalg.norm(force) <= 20.0 + 1e-9 and onset >= 25 and ramp == 50


def test_top_force_rises_only_when_held_without_falls() -> None:
    curriculum = LoadCurriculum(start_force=20, force_step=5, level_iterations=2, hold_track=0.6)
    objective = LoadedWalkObjective(curriculum)
    objective.start(4, np.zeros((4, 51)), np.random.default_rng(0))
    good = np.array([[c[0], c[1], 1.0, 1.0, 0.0] for c in objective.command])
    for _ in range(2):
        objective.reward(_step(good, np.zeros(4, bool)))
        row = objective.end_iteration({"falls": 0, "episodes": 2})
    assert row["top_force"] == 25
    for _ in range(2):
        objective.reward(_step(good, np.zeros(4, bool)))
        row = objective.end_iteration({"falls": 1, "episodes": 2})
    assert row["top_force"] == 25  # 2 falls in 4 ended episodes


def test_env_actions_hold_the_left_arm_in_the_hatch_pose() -> None:
    objective = LoadedWalkObjective(LoadCurriculum())
    actions = objective.env_actions(np.zeros((2, 10)))
    low, high = objective.ctrlrange[11:15].T
    np.testing.assert_allclose(low + (actions[:, 11:15] + 1) * (high - low) / 2,
                               np.tile(HOLD_ARM_POSE, (2, 1)))  # fmt: skip


def _yawed(yaws: np.ndarray) -> np.ndarray:
    """Observations (N, 51) of robots standing at the given yaws."""
    obs = np.zeros((len(yaws), 51))
    obs[:, 3], obs[:, 6] = np.cos(yaws / 2), np.sin(yaws / 2)  # quaternion (w, x, y, z)
    return obs


def test_a_commanded_heading_is_drawn_fed_to_the_policy_and_rewarded() -> None:
    objective = LoadedWalkObjective(LoadCurriculum(max_heading=0.8))
    objective.start(64, np.zeros((64, 51)), np.random.default_rng(0))
    heading = objective.heading.copy()
    assert np.all(np.abs(heading) <= 0.8) and heading.std() > 0.2
    # at its heading a robot is asked for no turn; off it, for a turn back toward it
    rates = objective.commands(_yawed(heading))
    np.testing.assert_allclose(rates[:, 2], 0.0, atol=1e-9)
    assert np.all(np.sign(objective.commands(_yawed(heading + 0.3))[:, 2]) == -1)
    objective.command[:] = 0.0
    def still(yaws: np.ndarray) -> np.ndarray:  # standing, at these yaws after the step
        return np.column_stack([np.zeros((64, 2)), np.ones((64, 2)), yaws])

    # the reward reads the yaw the step ended at, not the observation (a reset's where done)
    on = objective.reward(VectorStep(_yawed(heading + 0.6), np.zeros(64), np.zeros(64, bool),
                                     np.zeros(64, bool), still(heading)))  # fmt: skip
    off = objective.reward(VectorStep(_yawed(heading), np.zeros(64), np.zeros(64, bool),
                                      np.zeros(64, bool), still(heading + 0.6)))  # fmt: skip
    np.testing.assert_allclose(on, 1.0)
    assert np.all(off < 0.4)


def test_without_headings_the_heading_is_zero() -> None:
    objective = LoadedWalkObjective(LoadCurriculum())
    objective.start(4, np.zeros((4, 51)), np.random.default_rng(0))
    assert np.all(objective.heading == 0.0)

"""Distillation: collecting teacher pairs and behaviour cloning into a learned expert."""

from __future__ import annotations

import numpy as np
import pytest

from metaworld_hwm.envs import make_env
from metaworld_hwm.skills.distill import behaviour_clone, collect
from metaworld_hwm.skills.expert import ExpertSpec


def spec(obs_dim: int, action_dim: int) -> ExpertSpec:
    return ExpertSpec(
        name="student", skill="walk", kind="learned", robot="h1", obs_layout="qpos_qvel",
        obs_dim=obs_dim, action_dim=action_dim, config={"hidden": [64, 64]},
    )  # fmt: skip


def test_behaviour_clone_fits_a_smooth_teacher() -> None:
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((6, 3)) * 0.3
    obs = rng.standard_normal((2000, 6))
    actions = np.tanh(obs @ weights)
    expert, losses = behaviour_clone(spec(6, 3), obs, actions, epochs=25, lr=3e-3, seed=0)
    assert losses[-1] < 0.1 * losses[0]
    test_obs = rng.standard_normal((100, 6))
    assert np.abs(expert.act(test_obs) - np.tanh(test_obs @ weights)).mean() < 0.05
    with pytest.raises(ValueError, match="need obs"):
        behaviour_clone(spec(6, 3), obs, actions[:, :2])


def test_collect_records_clean_teacher_actions() -> None:
    env = make_env("h1-stand", seed=0)
    hold = env.unwrapped.hold_action()
    obs, actions, _ = collect(lambda o: hold, env, steps=20, seed=0, action_noise=0.2)
    assert obs.shape == (20, 51) and actions.shape == (20, 19)
    np.testing.assert_array_equal(actions, np.repeat(hold[None], 20, axis=0))

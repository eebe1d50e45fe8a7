"""VectorEnv: envs over worker processes, auto-reset, signals, snapshots, one-line errors."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.vector import VectorEnv
from metaworld_hwm.skills.locomotion_ppo import locomotion_signals

H1_WALK = functools.partial(HumanoidEnv, "h1", "walk", max_episode_steps=5)


def _actions(env: VectorEnv, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.2, 0.2, size=(env.num_envs, *env.action_space.shape))


def test_steps_match_single_envs_and_reset_at_episode_end() -> None:
    with VectorEnv(H1_WALK, 4, workers=2, signal_fn=locomotion_signals) as envs:
        obs = envs.reset([0, 1, 2, 3])
        singles = [H1_WALK() for _ in range(4)]
        expected = np.stack([env.reset(seed=i)[0] for i, env in enumerate(singles)])
        np.testing.assert_array_equal(obs, expected)
        for t in range(5):
            actions = _actions(envs, t)
            step = envs.step(actions)
            for i, env in enumerate(singles):
                o, r, terminated, truncated, info = env.step(actions[i])
                assert step.reward[i] == r and step.terminated[i] == terminated
                signals = locomotion_signals(env, info)
                np.testing.assert_array_equal(step.signals[i], signals)
                if not (terminated or truncated):
                    np.testing.assert_array_equal(step.obs[i], o)
        assert step.truncated.all() and step.done.all()  # 5-step episodes
        # the rows now hold the next episode's first observation (the keyframe, noised)
        assert np.abs(step.obs[:, 2] - singles[0].model.key_qpos[0, 2]).max() < 0.02


def test_a_snapshot_restores_the_exact_future() -> None:
    with VectorEnv(functools.partial(HumanoidEnv, "h1", "walk"), 2, workers=2) as envs:
        envs.reset([5, 6])
        envs.step(_actions(envs, 0))
        state = envs.get_state()
        future = [envs.step(_actions(envs, t)).obs for t in range(1, 4)]
        envs.set_state(state)
        replay = [envs.step(_actions(envs, t)).obs for t in range(1, 4)]
    for a, b in zip(future, replay, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_sizes_are_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="multiple of workers"):
        VectorEnv(H1_WALK, 3, workers=2)
    with VectorEnv(H1_WALK, 2, workers=1) as envs:
        with pytest.raises(ValueError, match="needs 2 seeds"):
            envs.reset([0])
        envs.reset([0, 1])
        with pytest.raises(ValueError, match="needs 2 action rows"):
            envs.step(np.zeros((3, 19)))

"""VectorEnv: envs over worker processes, auto-reset, signals, snapshots, one-line errors."""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.vector import VectorEnv
from metaworld_hwm.skills.locomotion_ppo import locomotion_signals

H1_WALK = functools.partial(HumanoidEnv, "h1", "walk", max_episode_steps=5)


class TorchThreadsEnv(gym.Env):
    """An env whose module loads torch before the worker starts (as the door sweep's does)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,))
    action_space = gym.spaces.Box(-1.0, 1.0, (1,))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
        return np.zeros(1), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        return np.zeros(1), 0.0, False, False, {}

    def torch_threads(self, _: object) -> int:
        return torch.get_num_threads()


def test_workers_keep_to_their_torch_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Envs that run a network in the worker: one torch thread each, whatever the parent's
    ``OMP_NUM_THREADS`` (read by torch when it loads, before the worker sets it)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    with VectorEnv(TorchThreadsEnv, 2, workers=2) as envs:
        assert envs.call("torch_threads", [None, None]) == [1, 1]


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

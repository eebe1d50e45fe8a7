"""The env factory sheeprl instantiates: our env unchanged, plus the episode recorder."""

from __future__ import annotations

import csv
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from metaworld_hwm.baselines.sheeprl_env import EPISODE_COLUMNS, EpisodeRecorder, make_sheeprl_env
from metaworld_hwm.envs import HumanoidEnv, make_env
from tests.unit.baselines.conftest import needs_sheeprl


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("task", ["h1-stand", "gym:InvertedPendulum-v5"])
def test_factory_returns_our_env_with_its_spaces(task: str) -> None:
    ours = make_env(task, seed=0)
    env = make_sheeprl_env(task, seed=0)
    assert not isinstance(env, EpisodeRecorder)
    assert env.observation_space == ours.observation_space
    assert env.action_space == ours.action_space
    assert isinstance(env.action_space, gym.spaces.Box)
    np.testing.assert_array_equal(env.action_space.low, -1.0)
    np.testing.assert_array_equal(env.action_space.high, 1.0)


def test_h1_stand_spaces_and_seeding() -> None:
    env = make_sheeprl_env("h1-stand", seed=3)
    assert isinstance(env.unwrapped, HumanoidEnv)
    assert env.observation_space.shape == (51,)
    assert env.action_space.shape == (19,)
    first, _ = make_sheeprl_env("h1-stand", seed=3).reset(seed=3)
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first, again)


def test_recorder_writes_each_finished_episode(tmp_path: Path) -> None:
    env = make_sheeprl_env("h1-stand", seed=0, rank=2, episode_log=str(tmp_path),
                           max_episode_steps=5)  # fmt: skip
    assert isinstance(env, EpisodeRecorder)
    assert env.observation_space.shape == (51,)  # the recorder changes no space
    total = 0.0
    for episode in range(2):
        env.reset(seed=episode)
        done, t = False, 0
        while not done:
            _, reward, terminated, truncated, _ = env.step(np.zeros(19, dtype=np.float32))
            total += float(reward) if episode == 1 else 0.0
            done, t = terminated or truncated, t + 1
    path = tmp_path / "env_2.csv"
    rows = _rows(path)
    assert tuple(rows[0]) == EPISODE_COLUMNS
    assert [int(r["env_step"]) for r in rows] == [5, 10]
    assert [int(r["episode_length"]) for r in rows] == [5, 5]
    assert float(rows[1]["episode_reward"]) == pytest.approx(total)


def test_recorder_drops_an_episode_cut_by_reset(tmp_path: Path) -> None:
    env = make_sheeprl_env("gym:InvertedPendulum-v5", seed=0, episode_log=str(tmp_path))
    env.reset(seed=0)
    env.step(np.zeros(1, dtype=np.float32))
    env.reset(seed=1)
    assert _rows(tmp_path / "env_0.csv") == []
    assert env.env_step == 1


@needs_sheeprl
def test_sheeprl_wraps_our_env_into_a_state_dict(tmp_path: Path) -> None:
    """Through sheeprl's own env maker, with the config our preset composes to."""
    from sheeprl.utils.env import make_env as sheeprl_make_env
    from sheeprl.utils.utils import dotdict

    from metaworld_hwm.baselines.sheeprl_run import DreamerV3Args, compose_sheeprl_config

    args = DreamerV3Args(task="h1-stand", steps=100, seed=0, run_dir=str(tmp_path))
    cfg = dotdict(compose_sheeprl_config(args))
    env = sheeprl_make_env(cfg, 7, 0, None, "train", vector_env_idx=0)()
    assert isinstance(env.observation_space, gym.spaces.Dict)
    assert list(env.observation_space.spaces) == ["state"]
    assert env.observation_space["state"].shape == (51,)
    assert env.action_space.shape == (19,)
    obs, _ = env.reset()
    assert obs["state"].shape == (51,)
    env.step(env.action_space.sample())
    inner = env
    while isinstance(inner, gym.Wrapper) and not isinstance(inner, EpisodeRecorder):
        inner = inner.env
    assert isinstance(inner, EpisodeRecorder)
    assert inner.path == tmp_path.resolve() / "episodes" / "env_0.csv"

"""SiteLoad: a force held at a site through its body's COM, ramped in, cleared by reset."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.loads import SiteLoad
from metaworld_hwm.envs.vector import VectorEnv


def _loaded(max_episode_steps: int = 1000) -> SiteLoad:
    return SiteLoad(HumanoidEnv("h1", "walk", max_episode_steps=max_episode_steps), "left_hand")


def test_force_ramps_in_and_acts_at_the_site() -> None:
    env = _loaded()
    env.reset(seed=0)
    action = env.unwrapped.hold_action()
    env.set_load((np.array([30.0, 0.0, 0.0]), 2, 4))
    data, model = env.unwrapped.data, env.unwrapped.model
    body = model.site_bodyid[model.site("left_hand").id]
    sizes = []
    for _ in range(8):
        site = data.site_xpos[model.site("left_hand").id].copy()
        com = data.xipos[body].copy()
        env.step(action)
        force = data.xfrc_applied[body, :3].copy()
        sizes.append(force[0])
        np.testing.assert_allclose(data.xfrc_applied[body, 3:], np.cross(site - com, force))
    np.testing.assert_allclose(sizes, [0, 0, 0, 7.5, 15, 22.5, 30, 30])
    env.reset(seed=1)
    assert not env.force().any()


def test_bad_loads_are_refused() -> None:
    env = _loaded()
    with pytest.raises(ValueError, match="3 finite numbers"):
        env.set_load((np.array([1.0, np.nan, 0.0]), 0, 1))
    with pytest.raises(ValueError, match="ramp >= 1"):
        env.set_load((np.zeros(3), 0, 0))


def test_vector_env_calls_reach_each_env_and_snapshots_keep_the_load() -> None:
    factory = functools.partial(_loaded, 50)
    with VectorEnv(factory, 2, workers=1) as envs:
        envs.reset([0, 1])
        envs.call("set_load", [(np.array([5.0, 0, 0]), 0, 1), None])
        envs.step(np.zeros((2, 19)))
        states = envs.get_state()
        assert states[0]["load"][0][0] == 5.0 and states[1]["load"][0][0] == 0.0
        envs.set_state(states[::-1])
        assert envs.get_state()[1]["load"][0][0] == 5.0

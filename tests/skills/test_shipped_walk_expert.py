"""The walk expert shipped in ``experts/`` walks h1-walk on its own."""

from __future__ import annotations

import numpy as np

from metaworld_hwm.envs import make_env
from metaworld_hwm.hierarchy import resolve_library
from metaworld_hwm.skills import ExpertLibrary


def test_shipped_walk_expert_walks_500_steps_without_a_fall() -> None:
    walker = ExpertLibrary.load(resolve_library(None))["walk"]
    env = make_env("h1-walk")
    obs, _ = env.reset(seed=0)
    walker.reset(1)
    start_x = env.data.subtree_com[1, 0]  # the whole robot's centre of mass
    for _ in range(500):
        obs, _, terminated, _, _ = env.step(walker.act(obs))
        assert not terminated
    speed = (env.data.subtree_com[1, 0] - start_x) / (500 * env.dt)
    assert speed >= 0.8
    assert np.isfinite(obs).all()

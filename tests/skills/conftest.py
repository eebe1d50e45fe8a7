"""Fixtures shared by the door-sweep tests."""

from __future__ import annotations

import pytest

from metaworld_hwm.skills.door_ppo import DoorSweepEnv
from metaworld_hwm.skills.walk import WalkExpert

#: Opener seeds tried, in order, for a sweep start of the default (release) pipeline.
_CANDIDATE_SEEDS = (1, 2, 0)
_found: dict[str, int] = {}


@pytest.fixture(scope="module")
def sweep_seed(walkers: tuple[WalkExpert, WalkExpert]) -> int:
    """The first of seeds 1, 2, 0 whose default opener episode reaches the sweep (the pull
    after the release and regrasp). Whether a regrasp stalls depends on the machine's last
    bits: seed 1's did on 2026-12-07's dev machine and not on the one before, so the tests
    take whichever seed gets there (its starts are cached for the tests' own envs). Uses
    the requesting module's ``walkers`` fixture (the walk expert and the door's pull legs)."""
    if "seed" not in _found:
        for seed in _CANDIDATE_SEEDS:
            try:
                DoorSweepEnv(*walkers, snapshot_seeds=(seed,), episode_steps=40,
                             velocity_noise=0.0)  # fmt: skip
            except RuntimeError:
                continue
            _found["seed"] = seed
            break
        else:
            pytest.fail(f"no opener episode of seeds {_CANDIDATE_SEEDS} reached the sweep")
    return _found["seed"]

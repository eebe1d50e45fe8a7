"""Replay buffer: sub-trajectories stay inside episodes; flags kept apart; ring; persistence."""

from pathlib import Path

import numpy as np
import pytest

from metaworld_hwm.training.replay_buffer import ReplayBuffer


def fill(buffer: ReplayBuffer, episodes: list[int], terminal: str = "terminated") -> None:
    """Episodes of the given lengths; obs value = 1000 * episode + step, action = same."""
    for e, length in enumerate(episodes, 1):
        buffer.start_episode(np.full(2, 1000 * e))
        for t in range(length):
            last = t == length - 1
            buffer.add(
                np.full(1, 1000 * e + t), reward=float(t), next_obs=np.full(2, 1000 * e + t + 1),
                terminated=last and terminal == "terminated",
                truncated=last and terminal == "truncated",
            )  # fmt: skip


def test_sequences_never_cross_episodes() -> None:
    buffer = ReplayBuffer(100, obs_dim=2, action_dim=1)
    fill(buffer, [5, 2, 7])
    batch = buffer.sample(64, horizon=3, rng=np.random.default_rng(0))
    obs = batch["obs"][..., 0].numpy()  # (4, 64)
    assert obs.shape == (4, 64)
    np.testing.assert_array_equal(np.diff(obs, axis=0), 1.0)  # consecutive steps, one episode
    assert not np.isin(obs[0] // 1000, [2]).any()  # episode 2 is shorter than the horizon
    np.testing.assert_array_equal(batch["action"][..., 0].numpy(), obs[:-1])
    np.testing.assert_array_equal(batch["reward"][..., 0].numpy(), obs[:-1] % 1000)


def test_terminated_and_truncated_stay_apart() -> None:
    buffer = ReplayBuffer(100, obs_dim=2, action_dim=1)
    fill(buffer, [4], terminal="terminated")
    fill(buffer, [4], terminal="truncated")
    assert buffer.terminated[:5].tolist() == [False, False, False, True, False]
    assert buffer.truncated[5:10].tolist() == [False, False, False, True, False]
    assert not buffer.terminated[5:10].any()
    batch = buffer.sample(200, horizon=3, rng=np.random.default_rng(1))
    last_action_obs = batch["obs"][2, :, 0].numpy() % 1000
    # the terminated flag sits exactly on the last transition of a terminated episode
    flags = batch["terminated"][2, :, 0].numpy()
    first_episode = batch["obs"][0, :, 0].numpy() // 1000 == 0
    assert (flags[first_episode] == (last_action_obs[first_episode] == 3)).all()


def test_ring_overwrites_oldest_and_keeps_valid_sequences() -> None:
    buffer = ReplayBuffer(10, obs_dim=2, action_dim=1)
    fill(buffer, [6, 6])  # 14 rows into 10
    assert len(buffer) == 10
    batch = buffer.sample(128, horizon=2, rng=np.random.default_rng(2))
    obs = batch["obs"][..., 0].numpy()
    np.testing.assert_array_equal(np.diff(obs, axis=0), 1.0)


def test_sampling_an_empty_buffer_is_a_clear_error() -> None:
    buffer = ReplayBuffer(10, obs_dim=2, action_dim=1)
    fill(buffer, [1])
    with pytest.raises(ValueError, match="no sub-trajectory of 4 observations"):
        buffer.sample(8, horizon=3, rng=np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="start_episode"):
        ReplayBuffer(10, 2, 1).add(np.zeros(1), 0.0, False, False, np.zeros(2))


def test_save_load_round_trip(tmp_path: Path) -> None:
    buffer = ReplayBuffer(50, obs_dim=2, action_dim=1)
    fill(buffer, [8, 9])
    buffer.save(tmp_path / "replay.npz")
    other = ReplayBuffer(50, obs_dim=2, action_dim=1)
    other.load(tmp_path / "replay.npz")
    a = buffer.sample(16, 3, np.random.default_rng(5))
    b = other.sample(16, 3, np.random.default_rng(5))
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy())
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(60, obs_dim=2, action_dim=1).load(tmp_path / "replay.npz")

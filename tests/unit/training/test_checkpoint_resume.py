"""Checkpoints: round trip, clear errors, and a killed run that resumes exactly."""

from pathlib import Path

import numpy as np
import pytest
import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.training import OnlineTrainer
from metaworld_hwm.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def small_config(run_dir: Path, steps: int) -> RunConfig:
    # h1-reach never terminates, so 20-step episodes put step 40 on an episode boundary, where
    # every periodic checkpoint falls (a resume restarts the episode in progress).
    return RunConfig(
        task="h1-reach", preset="tiny", steps=steps, seed=3, seed_steps=30,
        eval_every=1000, eval_episodes=0, checkpoint_every=20, save_buffer=True,
        buffer_size=500, max_episode_steps=20, run_dir=str(run_dir), tensorboard=False,
        world_model={"batch_size": 16, "num_samples": 32, "num_elites": 4},
    )  # fmt: skip


def test_round_trip_and_clear_errors(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "ck.pt", {"config": {"a": 1}, "weights": torch.ones(3)})
    state = load_checkpoint(path, expected_config={"a": 1})
    assert torch.equal(state["weights"], torch.ones(3)) and state["version"]
    with pytest.raises(CheckpointError, match=r"configuration \(fields \['a'\]; a: saved 1, now 2"):
        load_checkpoint(path, expected_config={"a": 2})
    upgraded = load_checkpoint(path, expected_config={"a": 2},
                               upgrade=lambda payload: payload | {"config": {"a": 2}})  # fmt: skip
    assert upgraded["config"] == {"a": 2}
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "other.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "other.pt")


def test_killed_run_resumes_exactly(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    straight = OnlineTrainer.from_config(small_config(tmp_path / "a", steps=80))
    straight.train()

    first = OnlineTrainer.from_config(small_config(tmp_path / "b", steps=40))
    first.train()  # "killed" after its step-40 checkpoint
    resumed = OnlineTrainer.from_config(small_config(tmp_path / "b", steps=80))
    resumed.train(resume=True)

    assert resumed.step == straight.step == 80
    for (name, p), q in zip(
        straight.agent.tdmpc2.model.state_dict().items(),
        resumed.agent.tdmpc2.model.state_dict().values(),
        strict=True,
    ):
        assert torch.equal(p, q), name
    obs = np.zeros(straight.env.observation_space.shape)
    np.testing.assert_array_equal(
        straight.agent.tdmpc2.act(obs, t0=True, eval_mode=True),
        resumed.agent.tdmpc2.act(obs, t0=True, eval_mode=True),
    )


def test_resume_with_other_settings_is_refused(tmp_path: Path) -> None:
    OnlineTrainer.from_config(small_config(tmp_path, steps=40)).train()
    changed = RunConfig(**{**small_config(tmp_path, 80).to_dict(), "seed": 4})
    with pytest.raises(CheckpointError, match="seed"):
        OnlineTrainer.from_config(changed).train(resume=True)

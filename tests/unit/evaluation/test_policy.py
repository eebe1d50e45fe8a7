"""Evaluation takes a policy: a run's agent is loaded from its directory without a trainer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.evaluation.policy import AgentPolicy, PolicyInfo, load_policy
from metaworld_hwm.evaluation.protocol import evaluate
from metaworld_hwm.training import OnlineTrainer
from metaworld_hwm.training.replay_buffer import ReplayBuffer

PENDULUM = "gym:InvertedPendulum-v5"


def test_a_run_loads_as_a_policy_without_a_trainer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch.set_num_threads(1)
    cfg = RunConfig(
        task=PENDULUM, preset="tiny", steps=30, seed=0, seed_steps=20, eval_every=1000,
        eval_episodes=0, max_episode_steps=15, run_dir=str(tmp_path), tensorboard=False,
        device="cpu", world_model={"batch_size": 8, "num_samples": 16, "num_elites": 4},
    )  # fmt: skip
    trainer = OnlineTrainer.from_config(cfg)
    trainer.train()

    def no_buffer(*args: object, **kwargs: object) -> None:
        raise AssertionError("loading a run for evaluation built a replay buffer")

    monkeypatch.setattr(ReplayBuffer, "__init__", no_buffer)
    policy = load_policy(tmp_path)
    assert isinstance(policy, AgentPolicy)
    assert policy.run_info == PolicyInfo(PENDULUM, "tdmpc2", 30, None)
    obs = np.zeros(policy.env.observation_space.shape)
    np.testing.assert_array_equal(  # the checkpoint's weights and planner state
        policy.act(obs, t0=True), trainer.agent.tdmpc2.act(obs, t0=True, eval_mode=True)
    )
    with pytest.raises(ValueError, match="acts on 'gym:InvertedPendulum-v5', not 'h1-walk'"):
        evaluate(policy, "h1-walk", trials=1)
    trials = evaluate(policy, PENDULUM, trials=2, seed=7)
    assert [t.seed for t in trials] == [7, 8] and all(0 < t.steps <= 15 for t in trials)
    policy.close()

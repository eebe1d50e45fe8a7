"""AsyncLearner: overlapped updates are finite, match the sequential loop when awaited at once,
plan with a frozen snapshot meanwhile, and guard the agent while an update runs."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from metaworld_hwm.physical.agent import TDMPC2Agent
from metaworld_hwm.physical.async_learner import AsyncLearner


def _obs(cfg, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(cfg.obs_dim).astype(np.float32)


@pytest.mark.parametrize("targets_on_caller", [None, True, False])
def test_awaiting_each_update_reproduces_the_sequential_loop(
    make_cfg, make_batch, targets_on_caller: bool | None
) -> None:
    """Bit for bit, wherever the TD targets are computed (caller, learner, or chosen)."""
    cfg = make_cfg(episodic=True)
    batch = make_batch(cfg)
    sequential, overlapped = TDMPC2Agent(cfg, seed=3), TDMPC2Agent(cfg, seed=3)
    sequential.separate_learn_generator()  # what AsyncLearner does
    sides = []
    with AsyncLearner(overlapped, targets_on_caller) as learner:
        for t in range(4):
            obs = _obs(cfg, t)
            expected_action = sequential.act(obs, t0=t == 0)
            expected_metrics = sequential.update(batch)
            action = overlapped.act(obs, t0=t == 0)
            learner.submit(batch)
            sides.append(learner.last_targets_on_caller)
            np.testing.assert_array_equal(action, expected_action)
            assert learner.wait() == expected_metrics
    if targets_on_caller is not None:
        assert sides == [targets_on_caller] * 4


def test_the_slower_side_gives_the_targets_away(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    agent = TDMPC2Agent(cfg, seed=0)
    with AsyncLearner(agent) as learner:
        learner.submit(make_batch(cfg))  # nothing measured yet: the learner computes them
        assert not learner.last_targets_on_caller
        learner.wait()
        assert learner.caller_seconds is not None and learner.learner_seconds is not None
        learner.caller_seconds, learner.learner_seconds = 0.05, 0.08  # the learner is slower
        learner.submit(make_batch(cfg))
        assert learner.last_targets_on_caller
        learner.wait()
        learner.caller_seconds, learner.learner_seconds = 0.08, 0.05  # the caller is slower
        learner.submit(make_batch(cfg))
        assert not learner.last_targets_on_caller


def test_errors_in_the_callers_targets_are_raised_by_wait(make_cfg, make_batch, monkeypatch):
    cfg = make_cfg()
    agent = TDMPC2Agent(cfg, seed=0)

    def broken(*args):
        raise FloatingPointError("targets boom")

    monkeypatch.setattr("metaworld_hwm.physical.async_learner.td_targets", broken)
    with AsyncLearner(agent, targets_on_caller=True) as learner:
        learner.submit(make_batch(cfg))  # the learner must not wait forever for the targets
        with pytest.raises(FloatingPointError, match="targets boom"):
            learner.wait()
        assert not learner.busy
        agent.state_dict()  # usable again


def test_overlapped_training_is_finite_and_one_update_stale(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    batch = make_batch(cfg)
    agent = TDMPC2Agent(cfg, seed=0)
    history = []
    with AsyncLearner(agent) as learner:
        assert learner.wait() is None
        frozen = None
        for t in range(6):
            agent.act(_obs(cfg, t), t0=t == 0)  # runs while the previous update does
            if frozen is not None:  # acting kept the snapshot taken before this update
                assert learner.busy and agent.acting is frozen
            metrics = learner.wait()
            if metrics is not None:
                history.append(metrics)
            learner.submit(batch)
            frozen = agent.acting
            assert frozen is not agent._live
        history.append(learner.close())
    assert len(history) == 6
    assert all(np.isfinite(list(m.values())).all() for m in history)
    assert history[-1]["world_model_loss"] < history[0]["world_model_loss"]
    # after the last wait, acting plans with the trained weights
    obs = torch.from_numpy(_obs(cfg, 9))[None]
    torch.testing.assert_close(agent.acting.encode(obs), agent.model.encode(obs))


def test_agent_is_guarded_while_an_update_runs(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    batch = make_batch(cfg)
    agent = TDMPC2Agent(cfg, seed=0)
    with AsyncLearner(agent) as learner:
        learner.submit(batch)
        for call in (lambda: agent.update(batch), agent.state_dict, lambda: learner.submit(batch)):
            with pytest.raises(RuntimeError, match="wait"):
                call()
        learner.wait()
        with pytest.raises(ValueError, match="missing 'terminated'"):
            learner.submit({k: v for k, v in batch.items() if k != "terminated"})
        assert not learner.busy
        agent.update(batch)  # fine once idle; acting goes back to the live weights
        assert agent.acting is agent._live


def test_errors_in_the_update_are_raised_by_wait(make_cfg, make_batch, monkeypatch) -> None:
    cfg = make_cfg()
    agent = TDMPC2Agent(cfg, seed=0)

    def broken(data, targets=None):
        raise FloatingPointError("boom")

    monkeypatch.setattr(agent, "_update_checked", broken)
    learner = AsyncLearner(agent)
    learner.submit(make_batch(cfg))
    with pytest.raises(FloatingPointError, match="boom"):
        learner.wait()
    assert not learner.busy
    agent.state_dict()  # the agent is usable again
    learner.close()


def test_checkpoint_keeps_both_generators(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    batch = make_batch(cfg)
    agent = TDMPC2Agent(cfg, seed=1)
    with AsyncLearner(agent) as learner:
        agent.act(_obs(cfg, 0), t0=True)
        learner.submit(batch)
        learner.wait()
    buffer = io.BytesIO()
    torch.save(agent.state_dict(), buffer)
    buffer.seek(0)
    resumed = TDMPC2Agent(cfg, seed=99)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    np.testing.assert_array_equal(agent.act(_obs(cfg, 1)), resumed.act(_obs(cfg, 1)))
    assert agent.update(batch) == resumed.update(batch)
    # an agent whose updates share act's generator (the default) restores as such
    shared = TDMPC2Agent(cfg, seed=2)
    state = shared.state_dict()
    assert state["learn_rng"] is None
    agent.load_state_dict(state)
    assert agent.learn_generator is agent.generator
    with AsyncLearner(agent) as learner:  # never shares a generator across threads
        learner.submit(batch)
        assert agent.learn_generator is not agent.generator

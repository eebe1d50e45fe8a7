"""TDMPC2Agent: learning on a fixed batch, determinism, resuming and input validation."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from metaworld_hwm.physical.agent import TDMPC2Agent


def _obs(cfg, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(cfg.obs_dim).astype(np.float32)


def _rollout(agent: TDMPC2Agent, batch, steps: int = 3) -> tuple[list[np.ndarray], list[dict]]:
    actions, metrics = [], []
    for t in range(steps):
        actions.append(agent.act(_obs(agent.cfg, t), t0=t == 0))
        metrics.append(agent.update(batch))
    return actions, metrics


def test_losses_decrease_on_a_fixed_batch(make_cfg, make_batch) -> None:
    cfg = make_cfg(episodic=True, guidance_lambda=1.0)
    agent = TDMPC2Agent(cfg, seed=0, device="cpu")
    batch = make_batch(cfg, a_ref=True)
    history = [agent.update(batch) for _ in range(50)]
    for key in (
        "world_model_loss",
        "consistency_loss",
        "reward_loss",
        "value_loss",
        "termination_loss",
        "pi_guidance",
    ):
        first, last = history[0][key], history[-1][key]
        assert last < 0.9 * first, (key, first, last)
    assert all(np.isfinite(list(m.values())).all() for m in history)
    assert {"grad_norm", "pi_grad_norm", "pi_loss", "pi_entropy", "pi_scale"} <= set(history[0])


def test_same_seed_same_actions_and_losses(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    batch = make_batch(cfg)
    state = torch.random.get_rng_state()
    a1, m1 = _rollout(TDMPC2Agent(cfg, seed=7, device="cpu"), batch)
    a2, m2 = _rollout(TDMPC2Agent(cfg, seed=7, device="cpu"), batch)
    a3, _ = _rollout(TDMPC2Agent(cfg, seed=8, device="cpu"), batch)
    assert torch.equal(torch.random.get_rng_state(), state), "the global RNG was used"
    for x, y in zip(a1, a2, strict=True):
        np.testing.assert_array_equal(x, y)
    assert m1 == m2
    assert not np.allclose(a1[0], a3[0])


def test_state_dict_round_trip_resumes_exactly(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    batch = make_batch(cfg)
    agent = TDMPC2Agent(cfg, seed=1, device="cpu")
    _rollout(agent, batch, steps=2)
    buffer = io.BytesIO()
    torch.save(agent.state_dict(), buffer)
    buffer.seek(0)
    resumed = TDMPC2Agent(cfg, seed=99, device="cpu")
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    obs = _obs(cfg, 5)
    np.testing.assert_array_equal(agent.act(obs), resumed.act(obs))
    assert agent.update(batch) == resumed.update(batch)


def test_load_rejects_another_config(make_cfg) -> None:
    state = TDMPC2Agent(make_cfg(), device="cpu").state_dict()
    other = TDMPC2Agent(make_cfg(lr=1e-3), device="cpu")
    with pytest.raises(ValueError, match=r"differing fields: \['lr'\]"):
        other.load_state_dict(state)
    state["rng"]["device"] = "cuda"
    with pytest.raises(ValueError, match="restore_rng=False"):
        TDMPC2Agent(make_cfg(), device="cpu").load_state_dict(state)


def test_load_reads_a_renamed_field_under_its_old_name(make_cfg) -> None:
    """Checkpoints saved before ``tau`` became ``polyak_rate`` still load."""
    cfg = make_cfg()
    state = TDMPC2Agent(cfg, device="cpu").state_dict()
    config = dict(state["config"])
    config["tau"] = config.pop("polyak_rate")
    TDMPC2Agent(cfg, device="cpu").load_state_dict({**state, "config": config})


def test_act_follows_a_strongly_weighted_reference(make_cfg) -> None:
    cfg = make_cfg(guidance_lambda=1e3)
    agent = TDMPC2Agent(cfg, device="cpu")
    a_ref = np.array([0.3, -0.6, 0.9], dtype=np.float32)
    action = agent.act(_obs(cfg), t0=True, eval_mode=True, a_ref=a_ref)
    assert action.shape == (3,) and action.dtype == np.float32
    np.testing.assert_allclose(action, a_ref, atol=0.05)
    plan_ref = np.tile(a_ref, (cfg.horizon, 1))
    np.testing.assert_allclose(
        agent.act(_obs(cfg), eval_mode=True, a_ref=plan_ref), a_ref, atol=0.05
    )


def test_act_rejects_bad_inputs(make_cfg) -> None:
    agent = TDMPC2Agent(make_cfg(), device="cpu")
    with pytest.raises(ValueError, match=r"obs must have shape \(10,\)"):
        agent.act(np.zeros(9, np.float32))
    with pytest.raises(ValueError, match="obs contains NaN"):
        agent.act(np.full(10, np.nan, np.float32))
    with pytest.raises(ValueError, match=r"a_ref must have shape \(3, 3\) or \(3,\)"):
        agent.act(np.zeros(10, np.float32), a_ref=np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        agent.act([0.0] * 10)


def test_update_rejects_bad_batches(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    agent = TDMPC2Agent(cfg, device="cpu")
    batch = make_batch(cfg)
    with pytest.raises(ValueError, match="missing 'terminated'"):
        agent.update({k: v for k, v in batch.items() if k != "terminated"})
    with pytest.raises(ValueError, match=r"batch\['reward'\] must have shape \(3, 32, 1\)"):
        agent.update({**batch, "reward": batch["reward"][:, :, 0]})
    with pytest.raises(ValueError, match=r"unknown batch keys \['truncated'\]"):
        agent.update({**batch, "truncated": batch["terminated"]})
    with pytest.raises(ValueError, match=r"batch\['obs'\] must be a tensor"):
        agent.update({**batch, "obs": batch["obs"][0]})

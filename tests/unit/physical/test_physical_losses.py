"""TD targets, the world-model loss and the policy loss."""

from __future__ import annotations

import pytest
import torch

from metaworld_hwm.physical.losses import (
    RunningScale,
    TDTargets,
    compute_td_target,
    draw_target_noise,
    policy_loss,
    td_target,
    td_targets,
    world_model_loss,
)
from metaworld_hwm.physical.world_model import WorldModel


def test_termination_cuts_bootstrapping_and_truncation_does_not() -> None:
    reward = torch.tensor([[1.0], [1.0]])
    next_value = torch.tensor([[10.0], [10.0]])
    # Row 0 terminated; row 1 was truncated by the time limit, stored as terminated = 0.
    terminated = torch.tensor([[1.0], [0.0]])
    target = td_target(reward, terminated, 0.9, next_value)
    torch.testing.assert_close(target, torch.tensor([[1.0], [10.0]]))


def _perturbed_model(cfg) -> WorldModel:
    model = WorldModel(cfg, torch.Generator().manual_seed(0))
    with torch.no_grad():
        for i, p in enumerate(model.target_q.parameters()):
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(i)) * 0.3)
    return model


def test_td_target_uses_min_of_target_heads(make_cfg) -> None:
    cfg = make_cfg()
    assert cfg.num_q == 2  # so the two random heads are all the heads
    model = _perturbed_model(cfg)
    next_z = model.encode(torch.randn(4, cfg.obs_dim, generator=torch.Generator().manual_seed(1)))
    reward = torch.arange(4.0).unsqueeze(1)
    alive = torch.zeros(4, 1)
    target = compute_td_target(model, next_z, reward, alive, torch.Generator().manual_seed(2))
    action = model.pi(next_z, torch.Generator().manual_seed(2)).action
    values = model.q_value(next_z, action, target=True)
    assert not torch.allclose(values[0], values[1])
    torch.testing.assert_close(target, reward + cfg.discount * values.min(0).values)
    done = compute_td_target(model, next_z, reward, torch.ones(4, 1), torch.Generator())
    torch.testing.assert_close(done, reward)


def test_running_scale_tracks_the_percentile_range() -> None:
    scale = RunningScale(rate=0.01)
    assert scale.value.item() == 1.0
    scale.update(torch.arange(101.0).unsqueeze(1))  # 5th..95th percentile: 5..95
    assert scale.value.item() == pytest.approx(1 + 0.01 * (90 - 1))
    before = scale.value.item()
    scale.update(torch.zeros(10, 1))  # the range is clamped to at least 1
    assert scale.value.item() == pytest.approx(before + 0.01 * (1 - before))


@pytest.mark.parametrize("episodic", [False, True])
def test_world_model_loss_terms_and_gradients(make_cfg, make_batch, episodic: bool) -> None:
    cfg = make_cfg(episodic=episodic)
    model = WorldModel(cfg, torch.Generator().manual_seed(0))
    batch = make_batch(cfg)
    loss = world_model_loss(model, batch, torch.Generator().manual_seed(0))
    expected = {"consistency", "reward", "value"} | ({"termination"} if episodic else set())
    assert set(loss.terms) == expected
    assert loss.zs.shape == (cfg.horizon + 1, cfg.batch_size, cfg.latent_dim)
    assert loss.total.ndim == 0 and torch.isfinite(loss.total)
    loss.total.backward()
    assert model.encoder[0].linear.weight.grad is not None
    assert model.q.weights[0].grad is not None
    assert all(p.grad is None for p in model.policy.parameters())
    assert all(p.grad is None for p in model.target_q.parameters())


def _loss_and_grads(model: WorldModel, batch, generator, targets=None):
    model.zero_grad(set_to_none=True)
    loss = world_model_loss(model, batch, generator, targets)
    loss.total.backward()
    grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
    return loss, grads


def test_targets_computed_ahead_give_the_same_loss_and_draws(make_cfg, make_batch) -> None:
    """Drawing the targets' noise first, computing them elsewhere (here: ahead, or through a
    callable as another thread would) leaves the loss, its gradients and the generator's
    later draws (the dropout masks) exactly as computing them inside the loss."""
    cfg = make_cfg(episodic=True)
    model = _perturbed_model(cfg)
    batch = make_batch(cfg)
    inline, inline_grads = _loss_and_grads(model, batch, torch.Generator().manual_seed(5))
    for as_callable in (False, True):
        generator = torch.Generator().manual_seed(5)
        targets = td_targets(model, batch, draw_target_noise(model, batch["reward"], generator))
        assert targets.next_z.shape == (cfg.horizon, cfg.batch_size, cfg.latent_dim)
        given = (lambda t=targets: t) if as_callable else targets
        loss, grads = _loss_and_grads(model, batch, generator, given)
        assert loss.total.item() == inline.total.item()
        assert {k: v.item() for k, v in loss.terms.items()} == {
            k: v.item() for k, v in inline.terms.items()
        }
        for got, want in zip(grads, inline_grads, strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_target_noise_matches_the_generator_draws(make_cfg, make_batch) -> None:
    cfg = make_cfg()
    model = _perturbed_model(cfg)
    batch = make_batch(cfg)
    direct = td_targets(model, batch, torch.Generator().manual_seed(3))
    noise = draw_target_noise(model, batch["reward"], torch.Generator().manual_seed(3))
    assert noise.policy.shape == (cfg.horizon, cfg.batch_size, cfg.action_dim)
    ahead = td_targets(model, batch, noise)
    assert isinstance(ahead, TDTargets)
    torch.testing.assert_close(ahead.value, direct.value, rtol=0, atol=0)
    with pytest.raises(ValueError, match="policy noise must have shape"):
        model.pi(direct.next_z, noise.policy[:, :1])


def test_policy_loss_only_trains_the_policy(make_cfg, make_batch) -> None:
    cfg = make_cfg(guidance_lambda=1.0)
    model = WorldModel(cfg, torch.Generator().manual_seed(0))
    batch = make_batch(cfg, a_ref=True)
    zs = world_model_loss(model, batch, torch.Generator()).zs.detach()
    scale = RunningScale(cfg.polyak_rate)
    plain = policy_loss(model, zs, scale, torch.Generator().manual_seed(0))
    assert "guidance" not in plain.terms
    guided = policy_loss(model, zs, scale, torch.Generator().manual_seed(0), batch["a_ref"])
    assert guided.terms["guidance"] > 0
    torch.testing.assert_close(guided.total - plain.total, guided.terms["guidance"])
    guided.total.backward()
    assert model.policy[0].linear.weight.grad is not None
    assert all(p.grad is None for p in model.q.parameters())
    assert all(p.grad is None for p in model.encoder.parameters())

"""World model parts: shapes, initialisation, the stacked Q ensemble and its target."""

from __future__ import annotations

import pytest
import torch

from metaworld_hwm.physical.config import make_config
from metaworld_hwm.physical.world_model import WorldModel


def _model(**overrides: object) -> WorldModel:
    cfg = make_config("tiny", 10, 3, 100, **overrides)
    return WorldModel(cfg, torch.Generator().manual_seed(0))


def _inputs(model: WorldModel, n: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    z = model.encode(torch.randn(n, model.cfg.obs_dim, generator=g))
    a = torch.rand(n, model.cfg.action_dim, generator=g) * 2 - 1
    return z, a


def test_shapes_and_simnorm_latents() -> None:
    model = _model(episodic=True)
    cfg = model.cfg
    z, a = _inputs(model)
    assert z.shape == (5, cfg.latent_dim)
    torch.testing.assert_close(z.view(5, -1, cfg.simnorm_dim).sum(-1), torch.ones(5, 4))
    assert model.next(z, a).shape == z.shape
    assert model.reward(z, a).shape == (5, cfg.num_bins)
    assert model.termination(z).shape == (5, 1)
    assert model.q_logits(z, a).shape == (cfg.num_q, 5, cfg.num_bins)
    assert model.q_value(z[None].expand(3, -1, -1), a.expand(3, -1, -1)).shape == (2, 3, 5, 1)


def test_reward_and_q_heads_start_at_zero() -> None:
    model = _model()
    z, a = _inputs(model)
    assert model.reward(z, a).abs().max() == 0
    assert model.q_logits(z, a).abs().max() == 0


def test_termination_needs_an_episodic_model() -> None:
    model = _model()
    assert model.termination_head is None
    with pytest.raises(RuntimeError, match="episodic=True"):
        model.termination(torch.zeros(1, model.cfg.latent_dim))


def test_initialisation_is_seeded_and_leaves_global_rng_alone() -> None:
    cfg = make_config("tiny", 10, 3, 100)
    state = torch.random.get_rng_state()
    first = WorldModel(cfg, torch.Generator().manual_seed(0)).state_dict()
    second = WorldModel(cfg, torch.Generator().manual_seed(0)).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    for key, value in first.items():
        assert torch.equal(value, second[key]), key
    weight = first["encoder.0.linear.weight"]
    assert weight.abs().max() <= 0.04 and 0.01 < weight.std() < 0.03


def _perturb_q(model: WorldModel) -> None:
    with torch.no_grad():
        for p in model.q.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())) * 0.1)


def test_q_subset_matches_full_evaluation() -> None:
    model = _model(num_q=4)
    _perturb_q(model)
    z, a = _inputs(model)
    full = model.q_logits(z, a)
    heads = torch.tensor([2, 0])
    torch.testing.assert_close(model.q_logits(z, a, heads), full[heads])
    torch.testing.assert_close(model.q_logits(z, a, torch.tensor([3])), full[3:])
    assert not torch.equal(full[0], full[1])


def test_q_heads_are_independent_mlps() -> None:
    model = _model(num_q=3)
    _perturb_q(model)
    z, a = _inputs(model)
    x = torch.cat([z, a], -1)
    q = model.q
    for i in range(3):
        h = x @ q.weights[0][i] + q.biases[0][i]
        for layer in range(1, len(q.weights)):
            h = torch.nn.functional.layer_norm(h, h.shape[-1:])
            h = h * q.norm_weights[layer - 1][i] + q.norm_biases[layer - 1][i]
            h = torch.nn.functional.mish(h)
            h = h @ q.weights[layer][i] + q.biases[layer][i]
        torch.testing.assert_close(model.q_logits(z, a)[i], h, rtol=1e-5, atol=1e-5)


def test_detached_q_has_same_values_and_no_parameter_gradient() -> None:
    model = _model()
    _perturb_q(model)
    z, a = _inputs(model)
    a = a.requires_grad_(True)
    out = model.q_logits(z.detach(), a, detach=True)
    torch.testing.assert_close(out, model.q_logits(z, a))
    out.sum().backward()
    assert a.grad is not None
    assert all(p.grad is None for p in model.q.parameters())


def test_dropout_is_seeded_and_only_on_request() -> None:
    model = _model(dropout=0.5)
    _perturb_q(model)
    z, a = _inputs(model)
    plain = model.q_logits(z, a)
    drop1 = model.q_logits(z, a, dropout_generator=torch.Generator().manual_seed(4))
    drop2 = model.q_logits(z, a, dropout_generator=torch.Generator().manual_seed(4))
    assert not torch.allclose(plain, drop1)
    torch.testing.assert_close(drop1, drop2, rtol=0, atol=0)


def test_target_q_starts_equal_and_follows_by_polyak_averaging() -> None:
    model = _model()
    z, a = _inputs(model)
    torch.testing.assert_close(model.q_logits(z, a, target=True), model.q_logits(z, a))
    before = [p.clone() for p in model.target_q.parameters()]
    _perturb_q(model)
    model.soft_update_target()
    rate = model.cfg.polyak_rate
    for old, new, online in zip(
        before, model.target_q.parameters(), model.q.parameters(), strict=True
    ):
        torch.testing.assert_close(new, old + rate * (online - old))
    assert not any(p.requires_grad for p in model.target_q.parameters())


def test_policy_samples_are_bounded_and_seeded() -> None:
    model = _model()
    z, _ = _inputs(model)
    s1 = model.pi(z, torch.Generator().manual_seed(0))
    s2 = model.pi(z, torch.Generator().manual_seed(0))
    assert s1.action.shape == (5, model.cfg.action_dim) and s1.log_prob.shape == (5, 1)
    assert s1.action.abs().max() <= 1 and s1.mean.abs().max() <= 1
    assert torch.equal(s1.action, s2.action)
    assert ((s1.log_std >= model.cfg.log_std_min) & (s1.log_std <= model.cfg.log_std_max)).all()


def test_random_heads_are_distinct() -> None:
    model = _model(num_q=5)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        heads = model.random_heads(g)
        assert heads.shape == (2,) and heads[0] != heads[1] and heads.max() < 5


def test_detached_q_with_a_constant_latent_matches_the_concatenated_input() -> None:
    """The policy loss's path (frozen Q, latent without gradient) skips the latent's input
    gradient; values and the action's gradient are unchanged."""
    model = _model()
    _perturb_q(model)
    z, a = _inputs(model, n=6)
    z = z.detach()
    heads = torch.tensor([1, 0])
    results = []
    for split in (True, False):
        action = a.clone().requires_grad_()
        if split:
            logits = model.q_logits(z, action, heads, detach=True)
        else:
            za = torch.cat([z, action], -1)
            logits = model.q(za, heads, detach=True)
        (logits * torch.linspace(-1, 1, logits.shape[-1])).sum().backward()
        results.append((logits.detach(), action.grad))
    assert results[0][1].abs().max() > 0
    for got, expected in zip(*results, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="detach=True"):
        model.q(a, heads, const=z)

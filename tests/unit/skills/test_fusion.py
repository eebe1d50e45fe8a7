"""Fusion maths: distributions, alpha, single experts, batching, the loss and the horizon."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from metaworld_hwm.skills.fusion import (
    Compositor,
    FusionConfig,
    expert_actions,
    fusion_loss,
    reference_horizon,
)
from tests.unit.skills.conftest import ConstantExpert

OBS_DIM, K, A = 4, 3, 2


def make(alpha: float = 0.7, semantic: str = "planner", seed: int = 0) -> Compositor:
    torch.manual_seed(seed)
    psi = np.random.default_rng(seed).standard_normal((K, 16))
    return Compositor(OBS_DIM, psi, FusionConfig(alpha=alpha, semantic=semantic))


@settings(max_examples=25, deadline=None)
@given(
    alpha=st.floats(0.0, 1.0),
    seed=st.integers(0, 1000),
    w=st.lists(st.floats(0.01, 10.0), min_size=K, max_size=K),
)
def test_weights_are_a_distribution(alpha: float, seed: int, w: list[float]) -> None:
    comp = make(alpha, seed=seed)
    obs = torch.randn(5, OBS_DIM, generator=torch.Generator().manual_seed(seed)) * 10
    w_t = torch.tensor(w) / sum(w)
    for weights in (comp.weights(obs, w_t), comp.selection_probs(obs)):
        assert (weights >= 0).all()
        torch.testing.assert_close(weights.sum(-1), torch.ones(5))


def test_alpha_one_ignores_the_state() -> None:
    comp = make(alpha=1.0)
    w = torch.tensor([0.2, 0.5, 0.3])
    obs = torch.randn(6, OBS_DIM) * 5
    torch.testing.assert_close(comp.weights(obs, w), w.expand(6, -1))


def test_alpha_zero_is_the_state_selection() -> None:
    comp = make(alpha=0.0)
    obs = torch.randn(3, OBS_DIM)
    torch.testing.assert_close(
        comp.weights(obs, torch.tensor([1.0, 0, 0])), comp.selection_probs(obs)
    )


def test_single_expert_with_weight_one_reproduces_its_action() -> None:
    expert = ConstantExpert("only", np.array([0.3, -0.7]))
    comp = Compositor(OBS_DIM, expert.psi[None], FusionConfig())
    obs = np.random.default_rng(0).standard_normal((4, OBS_DIM))
    acts = torch.as_tensor(expert_actions([expert], obs))
    a_ref = comp(torch.as_tensor(obs, dtype=torch.float32), acts, torch.tensor([1.0]))
    torch.testing.assert_close(a_ref, torch.tensor([[0.3, -0.7]]).expand(4, -1))


def test_batching_matches_the_loop() -> None:
    comp = make()
    obs = torch.randn(7, OBS_DIM)
    acts = torch.randn(7, K, A)
    w = torch.tensor([0.1, 0.6, 0.3])
    batched = comp(obs, acts, w)
    looped = torch.cat([comp(obs[i : i + 1], acts[i : i + 1], w) for i in range(7)])
    torch.testing.assert_close(batched, looped)


def test_a_ref_is_the_weighted_sum() -> None:
    comp = make(alpha=0.5)
    obs, acts, w = torch.randn(2, OBS_DIM), torch.randn(2, K, A), torch.tensor([0.5, 0.25, 0.25])
    expected = (comp.weights(obs, w)[:, :, None] * acts).sum(1)
    torch.testing.assert_close(comp(obs, acts, w), expected)


def test_no_vlm_ablation_learns_its_own_weights() -> None:
    comp = make(semantic="learned")
    obs = torch.randn(3, OBS_DIM)
    weights = comp.weights(obs)  # no planner weights needed
    torch.testing.assert_close(weights.sum(-1), torch.ones(3))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 1.5}, "alpha"),
        ({"semantic": "vlm"}, "semantic"),
        ({"feature_dim": 0}, "feature_dim"),
    ],
)
def test_bad_config_is_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FusionConfig(**kwargs)


def test_bad_semantic_weights_are_rejected() -> None:
    comp = make()
    obs = torch.randn(2, OBS_DIM)
    with pytest.raises(ValueError, match="probability"):
        comp.weights(obs, torch.tensor([0.5, 0.5, 0.5]))
    with pytest.raises(ValueError, match="required"):
        comp.weights(obs)


def test_fusion_loss_moves_weight_to_the_expert_q_prefers() -> None:
    """Q peaks at expert 2's action; training phi/psi raises p(2|s) and the a_ref Q."""
    comp = make(alpha=0.0)
    target = torch.tensor([0.5, -0.5])
    acts = torch.stack([torch.tensor([-1.0, 1.0]), torch.tensor([1.0, 1.0]), target])
    obs = torch.randn(64, OBS_DIM, generator=torch.Generator().manual_seed(1))
    batch_acts = acts.expand(64, -1, -1)

    def q_fn(o: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return -(a - target).pow(2).sum(-1, keepdim=True) + 5.0

    optim = torch.optim.Adam(comp.parameters(), lr=1e-2)
    before = comp.selection_probs(obs)[:, 2].mean().item()
    for _ in range(150):
        loss, metrics = fusion_loss(comp, obs, batch_acts, q_fn)
        optim.zero_grad()
        loss.backward()
        optim.step()
    after = comp.selection_probs(obs)[:, 2].mean().item()
    assert after > max(before, 0.8)
    assert set(metrics) == {"skills/q", "skills/entropy"}


def test_reference_horizon_repeats_or_rolls() -> None:
    experts = [ConstantExpert(f"e{i}", np.full(A, i / 3)) for i in range(K)]
    comp = make()
    w = np.array([0.2, 0.3, 0.5])
    obs = np.zeros(OBS_DIM)
    held = reference_horizon(comp, experts, obs, 3, w)
    assert held.shape == (3, A)
    np.testing.assert_allclose(held, np.repeat(held[:1], 3, axis=0))
    seen = []

    def predict(o: np.ndarray, a: np.ndarray) -> np.ndarray:
        seen.append(a)
        return o + 1.0

    rolled = reference_horizon(comp, experts, obs, 3, w, predict=predict)
    assert rolled.shape == (3, A) and len(seen) == 2
    np.testing.assert_allclose(rolled[0], held[0], rtol=1e-6)


def test_fusion_trains_on_a_world_model_q_without_touching_the_model() -> None:
    from metaworld_hwm.physical import WorldModel, make_config
    from metaworld_hwm.skills.fusion import world_model_q

    cfg = make_config("tiny", OBS_DIM, A, 100)
    model = WorldModel(cfg, torch.Generator().manual_seed(0))
    comp = make()
    obs, acts = torch.randn(8, OBS_DIM), torch.rand(8, K, A) * 2 - 1
    q_fn = world_model_q(model, torch.Generator().manual_seed(1))
    loss, _ = fusion_loss(comp, obs, acts, q_fn, torch.tensor([0.2, 0.3, 0.5]))
    loss.backward()
    assert comp.psi.grad is not None and comp.psi.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())

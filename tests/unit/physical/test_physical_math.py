"""Pure maths: symlog/symexp, two-hot regression, SimNorm, tanh-Gaussian log-densities."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from metaworld_hwm.physical.math import (
    gaussian_log_prob,
    scale_log_std,
    simnorm,
    soft_cross_entropy,
    symexp,
    symlog,
    tanh_squash,
    two_hot,
    two_hot_inv,
)

BINS, VMIN, VMAX = 101, -10.0, 10.0
LIMIT = math.expm1(VMAX)  # largest magnitude the bins represent


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_symexp_inverts_symlog(x: float) -> None:
    t = torch.tensor([x], dtype=torch.float64)
    torch.testing.assert_close(symexp(symlog(t)), t, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(symlog(symexp(symlog(t))), symlog(t))


def test_symlog_values() -> None:
    x = torch.tensor([-math.e + 1, 0.0, 1.0])
    torch.testing.assert_close(symlog(x), torch.tensor([-1.0, 0.0, math.log(2)]))


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-LIMIT, max_value=LIMIT, allow_nan=False))
def test_two_hot_round_trip(x: float) -> None:
    t = torch.tensor([[x]], dtype=torch.float64)
    code = two_hot(t, BINS, VMIN, VMAX)
    assert code.shape == (1, BINS)
    assert (code >= 0).all() and (code > 0).sum() <= 2
    torch.testing.assert_close(code.sum(-1), torch.ones(1, dtype=torch.float64))
    centres = torch.linspace(VMIN, VMAX, BINS, dtype=torch.float64)
    torch.testing.assert_close((code * centres).sum(-1, keepdim=True), symlog(t))
    decoded = two_hot_inv(code.clamp_min(1e-300).log(), VMIN, VMAX)
    torch.testing.assert_close(decoded, t, rtol=1e-6, atol=1e-6)


def test_two_hot_clamps_out_of_range_and_handles_edges() -> None:
    x = torch.tensor([[1e9], [-1e9], [LIMIT], [-LIMIT], [0.0]])
    code = two_hot(x, BINS, VMIN, VMAX)
    assert code[0, -1] == 1 and code[1, 0] == 1
    assert code[2, -1] == pytest.approx(1) and code[3, 0] == pytest.approx(1)
    assert code[4, BINS // 2] == 1


def test_two_hot_rejects_missing_trailing_dim() -> None:
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 1\)"):
        two_hot(torch.zeros(4), BINS, VMIN, VMAX)


def test_zero_logits_decode_to_zero() -> None:
    assert two_hot_inv(torch.zeros(5, BINS), VMIN, VMAX).abs().max() < 1e-5


def test_soft_cross_entropy_is_smallest_at_the_target_code() -> None:
    target = torch.tensor([[3.0], [-20.0]])
    exact = two_hot(target, BINS, VMIN, VMAX).clamp_min(1e-12).log()
    other = torch.randn(2, BINS, generator=torch.Generator().manual_seed(0))
    ce_exact = soft_cross_entropy(exact, target, VMIN, VMAX)
    ce_other = soft_cross_entropy(other, target, VMIN, VMAX)
    assert ce_exact.shape == (2, 1)
    assert (ce_exact < ce_other).all()
    manual = -(two_hot(target, BINS, VMIN, VMAX) * other.log_softmax(-1)).sum(-1, keepdim=True)
    torch.testing.assert_close(ce_other, manual)


def test_simnorm_groups_sum_to_one() -> None:
    x = torch.randn(4, 7, 32, generator=torch.Generator().manual_seed(0)) * 10
    y = simnorm(x, 8)
    assert y.shape == x.shape and (y >= 0).all()
    torch.testing.assert_close(y.view(4, 7, 4, 8).sum(-1), torch.ones(4, 7, 4))
    with pytest.raises(ValueError, match="multiple of group_dim=8"):
        simnorm(torch.zeros(2, 12), 8)


def test_scale_log_std_stays_in_range() -> None:
    raw = torch.tensor([-1e4, 0.0, 1e4])
    torch.testing.assert_close(scale_log_std(raw, -10.0, 2.0), torch.tensor([-10.0, -4.0, 2.0]))


def test_tanh_gaussian_log_prob_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(6, 3, generator=g, dtype=torch.float64) * 0.5
    log_std = torch.randn(6, 3, generator=g, dtype=torch.float64) * 0.3 - 0.5
    eps = torch.randn(6, 3, generator=g, dtype=torch.float64)
    sample = mean + eps * log_std.exp()
    log_prob = gaussian_log_prob(eps, log_std)
    normal = torch.distributions.Normal(mean, log_std.exp())
    torch.testing.assert_close(log_prob, normal.log_prob(sample).sum(-1, keepdim=True))
    squashed_mean, action, squashed_log_prob = tanh_squash(mean, sample, log_prob)
    dist = torch.distributions.TransformedDistribution(
        normal, [torch.distributions.transforms.TanhTransform()]
    )
    expected = dist.log_prob(action).sum(-1, keepdim=True)
    torch.testing.assert_close(squashed_log_prob, expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(squashed_mean, mean.tanh())

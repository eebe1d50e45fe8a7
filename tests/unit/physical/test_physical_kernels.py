"""Fused CPU kernels equal the torch ops they replace, forward and backward, on both paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch.nn.functional import layer_norm, mish

from metaworld_hwm.physical import kernels
from metaworld_hwm.physical.math import simnorm

TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.fixture(params=[True, False], ids=["kernels", "torch"])
def path(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Run a test with the compiled kernels (where they build) and with the torch fallback."""
    previous = kernels.set_enabled(request.param)
    yield request.param
    kernels.set_enabled(previous)


def _params(shape: tuple[int, ...], seed: int) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=g) for _ in range(3)]


def _reference(x, linear_bias, weight, bias, scale=None):
    h = x + linear_bias if scale is None else (x + linear_bias) * scale
    return mish(layer_norm(h, h.shape[-1:]) * weight + bias)


def test_kernels_build_on_this_machine() -> None:
    """Development and CI machines have a C compiler: the fast path must not silently vanish."""
    if kernels.set_enabled(True) and not kernels.enabled():
        pytest.fail("the fused kernels did not build (see the RuntimeWarning)")


@pytest.mark.parametrize(
    ("x_shape", "p_shape"), [((37, 24), (24,)), ((3, 5, 24), (24,)), ((2, 9, 24), (2, 1, 24))]
)
def test_ln_mish_matches_torch(path: bool, x_shape, p_shape) -> None:
    x = torch.randn(x_shape, generator=torch.Generator().manual_seed(0)) * 4
    lb, w, b = _params(p_shape, 1)
    torch.testing.assert_close(kernels.ln_mish(x, w, b, lb), _reference(x, lb, w, b), **TOL)
    expected = mish(layer_norm(x, x.shape[-1:]) * w + b)
    torch.testing.assert_close(kernels.ln_mish(x, w, b), expected, **TOL)
    y = x.clone()
    out = kernels.ln_mish(y, w, b, inplace=True)
    torch.testing.assert_close(out, expected, **TOL)


@pytest.mark.parametrize("gain", [1.0, 40.0])
def test_ln_simnorm_matches_torch(path: bool, gain: float) -> None:
    """gain 40 spreads groups far below the row's max (the kernel's per-group fallback)."""
    x = torch.randn(11, 64, generator=torch.Generator().manual_seed(0)) * 5
    lb, w, b = (p * gain for p in _params((64,), 2))
    expected = simnorm(layer_norm(x + lb, (64,), w, b), 8)
    out = kernels.ln_simnorm(x, w, b, 8, lb)
    torch.testing.assert_close(out, expected, **TOL)
    torch.testing.assert_close(out.view(11, 8, 8).sum(-1), torch.ones(11, 8), **TOL)


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("dropout", [False, True])
def test_linear_norm_mish_forward_and_gradients(path: bool, grouped: bool, dropout: bool) -> None:
    g = torch.Generator().manual_seed(3)
    x_shape, p_shape = ((2, 13, 16), (2, 1, 16)) if grouped else ((13, 16), (16,))
    x = (torch.randn(x_shape, generator=g) * 3).requires_grad_()
    params = [p.requires_grad_() for p in _params(p_shape, 4)]
    scale = (torch.rand(x_shape, generator=g) > 0.2).float() / 0.8 if dropout else None
    grad_out = torch.randn(x_shape, generator=g)
    results = []
    for fn in (kernels.linear_norm_mish, _reference):
        for t in (x, *params):
            t.grad = None
        y = fn(x, *params, scale=scale)
        y.backward(grad_out)
        results.append([y.detach(), *(t.grad.clone() for t in (x, *params))])
    for got, expected in zip(*results, strict=True):
        torch.testing.assert_close(got, expected, **TOL)


def test_mish_at_extreme_pre_activations(path: bool) -> None:
    """Large LayerNorm gains and offsets drive Mish far into both tails (exp clamping)."""
    x = torch.randn(6, 16, generator=torch.Generator().manual_seed(5)).requires_grad_()
    zeros = torch.zeros(16)
    w = torch.full((16,), 40.0, requires_grad=True)
    b = torch.linspace(-150, 150, 16).requires_grad_()
    results = []
    for fn in (kernels.linear_norm_mish, _reference):
        for t in (x, w, b):
            t.grad = None
        y = fn(x, zeros, w, b)
        y.sum().backward()
        results.append([y.detach(), x.grad.clone(), w.grad.clone(), b.grad.clone()])
    for got, expected in zip(*results, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)


def test_nan_propagates(path: bool) -> None:
    x = torch.randn(4, 8)
    x[1, 3] = float("nan")
    w, b = torch.ones(8), torch.zeros(8)
    out = kernels.ln_mish(x, w, b)
    assert out[1].isnan().all() and out[[0, 2, 3]].isfinite().all()


def test_mismatched_parameters_are_rejected() -> None:
    if not kernels.enabled():
        pytest.skip("only the compiled path checks layouts")
    with pytest.raises(ValueError, match=r"expected \(cols,\), or \(k, 1, cols\)"):
        kernels.ln_mish(torch.randn(5, 3, 8), torch.ones(3, 1, 8), torch.zeros(3, 1, 8))


def test_kernels_leave_the_callers_denormal_mode() -> None:
    """The kernels flush denormals to zero only while they run."""
    x = torch.randn(3, 16)
    kernels.ln_mish(x, torch.ones(16), torch.zeros(16))
    y = x.requires_grad_()
    kernels.linear_norm_mish(y, torch.zeros(16), torch.ones(16), torch.zeros(16)).sum().backward()
    denormal = torch.tensor([1e-39])
    assert (denormal * 1.0).item() != 0.0


def test_mismatched_bias_and_scale_are_rejected() -> None:
    if not kernels.enabled():
        pytest.skip("only the compiled path checks layouts")
    x = torch.randn(5, 8, requires_grad=True)
    with pytest.raises(ValueError, match="does not match"):
        kernels.ln_mish(x.detach(), torch.ones(8), torch.zeros(8), torch.zeros(4))
    with pytest.raises(ValueError, match="scale of shape"):
        kernels.linear_norm_mish(x, torch.zeros(8), torch.ones(8), torch.zeros(8), torch.ones(5, 4))


def test_a_failed_build_warns_and_falls_back(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(kernels, "_lib", None)
    monkeypatch.setattr(kernels, "_tried", False)
    with pytest.warns(RuntimeWarning, match="fused CPU kernels unavailable"):
        assert not kernels.enabled()
    x, w, b = torch.randn(4, 8), torch.ones(8), torch.zeros(8)
    torch.testing.assert_close(kernels.ln_mish(x, w, b), mish(layer_norm(x, (8,))), **TOL)

"""Int8 planning (`planning_int8`): the quantised products are close to float32, the kernels
agree with their torch fallback, and a view model follows the live weights."""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pytest
import torch

from metaworld_hwm.physical import kernels
from metaworld_hwm.physical.acting import ActingModel
from metaworld_hwm.physical.agent import TDMPC2Agent
from metaworld_hwm.physical.config import make_config
from metaworld_hwm.physical.int8 import int8_matmul, quantize_weight
from metaworld_hwm.physical.mppi import estimate_value


def _rel_err(got: torch.Tensor, expected: torch.Tensor) -> float:
    return float((got - expected).norm() / expected.norm())


def test_quantize_rows_kernel_equals_the_torch_fallback() -> None:
    x = torch.randn(37, 70, generator=torch.Generator().manual_seed(0)) * 3
    x[5] = 0.0  # an all-zero row keeps scale 1
    q_kernel, s_kernel = kernels.quantize_rows(x)
    previous = kernels.set_enabled(False)
    try:
        q_torch, s_torch = kernels.quantize_rows(x)
        acc = torch.randint(-5000, 5000, (37, 11), dtype=torch.int32)
        cols = torch.rand(11) + 0.5
        expected = kernels.dequantize_rows(acc, s_torch, cols)
    finally:
        kernels.set_enabled(previous)
    assert q_kernel.dtype == torch.int8 and s_kernel[5] == 1.0
    assert torch.equal(q_kernel, q_torch)
    torch.testing.assert_close(s_kernel, s_torch)
    torch.testing.assert_close(kernels.dequantize_rows(acc, s_kernel, cols), expected)
    # the largest entry of each row maps to +-127
    assert torch.equal(q_kernel.abs().amax(1)[x.abs().amax(1) > 0], torch.full((36,), 127))


def test_int8_product_is_within_two_percent_of_float32() -> None:
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(256, 96, generator=g), torch.randn(96, 64, generator=g)
    w[:, 3] = 0.0  # a zero output column (zero-initialised heads) stays exact
    got = int8_matmul(*kernels.quantize_rows(x), quantize_weight(w))
    assert _rel_err(got, x @ w) < 0.02
    assert torch.equal(got[:, 3], torch.zeros(256))


@pytest.mark.parametrize("preset", ["tiny", "1m"])
def test_int8_values_are_close_to_float32(
    preset: str, make_agent: Callable[..., TDMPC2Agent]
) -> None:
    # not episodic: this made-up agent's termination probabilities sit near the 0.5 cut-off,
    # where any rounding flips a candidate's survival
    agent = make_agent(preset, episodic=False)
    obs = torch.randn(1, 10, generator=torch.Generator().manual_seed(2))
    z0 = agent.model.encode(obs)[0].detach()
    actions = torch.rand(3, 64, 3, generator=torch.Generator().manual_seed(3)) * 2 - 1
    values = [
        estimate_value(
            ActingModel(agent.model, copy=True, int8=int8).planning_model(),
            z0, actions, agent.cfg.discount, torch.Generator().manual_seed(4),
        )
        for int8 in (False, True)
    ]  # fmt: skip
    assert _rel_err(values[1], values[0]) < 0.05
    # the ranking of candidates, which is what MPPI uses, is nearly unchanged
    corr = np.corrcoef(values[0].ravel().numpy(), values[1].ravel().numpy())[0, 1]
    assert corr > 0.99


def test_the_agent_plans_with_its_updated_weights(
    make_agent: Callable[..., TDMPC2Agent], make_batch: Callable[..., dict[str, torch.Tensor]]
) -> None:
    """The fused Adam step changes parameters without bumping their version counters, so the
    agent re-quantises explicitly: after an update (and a load) the int8 weights it plans
    with are those of the new model, not of the one it was built with."""
    agent = make_agent(planning_int8=True)
    assert agent.acting.int8
    z0 = torch.rand(agent.cfg.latent_dim, generator=torch.Generator().manual_seed(4))
    actions = torch.rand(3, 16, 3, generator=torch.Generator().manual_seed(5)) * 2 - 1

    def values(model: ActingModel) -> torch.Tensor:
        roll = model.planning_model().rollout
        assert roll is not None
        return roll(z0, actions, agent.cfg.discount).ret

    before = values(agent.acting)
    state = copy.deepcopy(agent.state_dict())  # state_dict() holds the live tensors
    for seed in range(3):
        agent.update(make_batch(agent.cfg, seed=seed))
    after = values(agent.acting)
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, values(ActingModel(agent.model, copy=True)))
    agent.load_state_dict(state)
    torch.testing.assert_close(values(agent.acting), before)


def test_agent_with_int8_planning_acts_reproducibly(make_agent: Callable[..., TDMPC2Agent]) -> None:
    actions = []
    for _ in range(2):
        agent = make_agent(planning_int8=True)
        obs = np.linspace(-1, 1, 10, dtype=np.float32)
        actions.append([agent.act(obs, t0=i == 0) for i in range(3)])
    np.testing.assert_array_equal(np.stack(actions[0]), np.stack(actions[1]))
    assert np.all(np.abs(actions[0]) <= 1.0)


def test_planning_int8_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="planning_int8"):
        make_config("tiny", 10, 3, 100, planning_int8="yes")


def test_fused_int8_layer_tail_equals_its_parts() -> None:
    g = torch.Generator().manual_seed(6)
    acc = torch.randint(-20000, 20000, (33, 48), dtype=torch.int32, generator=g)
    row_scale, col_scale = torch.rand(33, generator=g) * 1e-3, torch.rand(48, generator=g)
    lb, w, b = (torch.randn(48, generator=g) for _ in range(3))
    q, scale = kernels.dq_ln_mish_q(acc, row_scale, col_scale, lb, w, b)
    h = kernels.ln_mish(kernels.dequantize_rows(acc, row_scale, col_scale), w, b, lb)
    q_ref, scale_ref = kernels.quantize_rows(h)
    torch.testing.assert_close(scale, scale_ref)
    assert (q.int() - q_ref.int()).abs().max() <= 1  # rounding ties may differ by one step
    previous = kernels.set_enabled(False)
    try:
        q_torch, scale_torch = kernels.dq_ln_mish_q(acc, row_scale, col_scale, lb, w, b)
    finally:
        kernels.set_enabled(previous)
    torch.testing.assert_close(scale, scale_torch)
    assert (q.int() - q_torch.int()).abs().max() <= 1


def test_weights_quantise_the_same_in_either_layout() -> None:
    w = torch.randn(40, 24, generator=torch.Generator().manual_seed(7))  # (in, out)
    from_rows = quantize_weight(w.t().contiguous().t())  # an nn.Linear weight, transposed
    from_cols = quantize_weight(w.contiguous())  # a Q-ensemble weight
    assert torch.equal(from_rows.weight, from_cols.weight)
    torch.testing.assert_close(from_rows.scale, from_cols.scale)
    previous = kernels.set_enabled(False)
    try:
        fallback = quantize_weight(w.contiguous())
    finally:
        kernels.set_enabled(previous)
    assert (fallback.weight.int() - from_cols.weight.int()).abs().max() <= 1

"""The fused planning path (ActingModel, cached fixed candidates) equals the reference one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from metaworld_hwm.physical import kernels
from metaworld_hwm.physical.acting import ActingModel
from metaworld_hwm.physical.agent import TDMPC2Agent
from metaworld_hwm.physical.mppi import _join, bootstrap, estimate_value, plan_action, rollout

TOL = dict(rtol=1e-5, atol=1e-5)


def _z0(agent: TDMPC2Agent) -> torch.Tensor:
    obs = torch.randn(1, agent.cfg.obs_dim, generator=torch.Generator().manual_seed(2))
    return agent.model.encode(obs).squeeze(0)


@pytest.mark.parametrize("use_kernels", [True, False], ids=["kernels", "torch"])
@pytest.mark.parametrize("episodic", [False, True])
def test_fused_value_estimate_equals_the_reference(
    episodic: bool, use_kernels: bool, make_agent: Callable[..., TDMPC2Agent]
) -> None:
    previous = kernels.set_enabled(use_kernels)
    try:
        agent = make_agent(episodic=episodic)
        z0 = _z0(agent)
        actions = torch.rand(3, 40, 3, generator=torch.Generator().manual_seed(3)) * 2 - 1
        values = [
            estimate_value(model, z0, actions, agent.cfg.discount, torch.Generator().manual_seed(4))
            for model in (agent.planning_model(), agent.acting.planning_model())
        ]
        torch.testing.assert_close(values[1], values[0], **TOL)
        obs = torch.randn(5, 10)
        torch.testing.assert_close(agent.acting.encode(obs), agent.model.encode(obs), **TOL)
    finally:
        kernels.set_enabled(previous)


@pytest.mark.parametrize("preset", ["tiny", "1m"])
def test_fused_plan_equals_the_reference_plan(
    preset: str, make_agent: Callable[..., TDMPC2Agent]
) -> None:
    agent = make_agent(preset)
    z0, cfg = _z0(agent), agent.cfg
    a_ref = torch.full((cfg.horizon, 3), 0.3)
    results = [
        plan_action(
            model, z0, cfg, torch.Generator().manual_seed(5), a_ref=a_ref, guidance_lambda=0.1
        )
        for model in (agent.planning_model(), agent.acting.planning_model())
    ]
    for got, expected in zip(results[1][:2], results[0][:2], strict=True):
        torch.testing.assert_close(got, expected, **TOL)


def test_fixed_candidates_rolled_out_once_give_the_same_values(
    make_agent: Callable[..., TDMPC2Agent],
) -> None:
    """plan_action() rolls the prior/reference candidates out once per call and joins them with each
    iteration's samples: the joined values equal a rollout of all candidates together."""
    agent = make_agent()
    model, z0 = agent.planning_model(), _z0(agent)
    g = torch.Generator().manual_seed(6)
    fixed, sampled = torch.rand(3, 5, 3, generator=g), torch.rand(3, 30, 3, generator=g)
    discount = agent.cfg.discount
    joined = _join(rollout(model, z0, fixed, discount), rollout(model, z0, sampled, discount))
    together = rollout(model, z0, torch.cat([fixed, sampled], 1), discount)
    for got, expected in zip(joined[:3], together[:3], strict=True):
        torch.testing.assert_close(got, expected, **TOL)
    values = [bootstrap(model, r, torch.Generator().manual_seed(7)) for r in (joined, together)]
    torch.testing.assert_close(values[0], values[1], **TOL)


def test_snapshot_is_frozen_and_views_follow_the_model(
    make_agent: Callable[..., TDMPC2Agent],
) -> None:
    agent = make_agent()
    snapshot = ActingModel(agent.model, copy=True)
    obs = torch.randn(4, 10)
    before = snapshot.encode(obs)
    with torch.no_grad():
        for p in agent.model.encoder.parameters():
            p.add_(0.1)
    torch.testing.assert_close(snapshot.encode(obs), before, rtol=0, atol=0)
    torch.testing.assert_close(agent.acting.encode(obs), agent.model.encode(obs), **TOL)
    assert not torch.allclose(agent.acting.encode(obs), before)

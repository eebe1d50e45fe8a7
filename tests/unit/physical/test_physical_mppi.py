"""MPPI on an analytic linear-quadratic problem, with and without expert guidance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metaworld_hwm.physical.config import WorldModelConfig, make_config
from metaworld_hwm.physical.mppi import PlanningModel, estimate_value, plan_action

A_SYS = np.array([[1.0, 0.2], [0.0, 1.0]])
B_SYS = np.array([[0.1, 0.0], [0.2, 0.1]])
Q_COST = np.diag([1.0, 0.5])
R_COST = np.diag([0.1, 0.2])
P_TERMINAL = np.diag([2.0, 1.0])
Z0 = np.array([0.8, -0.6])


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float32)


def _quad(x: torch.Tensor, m: np.ndarray) -> torch.Tensor:
    return ((x @ _t(m)) * x).sum(-1, keepdim=True)


def lq_model() -> PlanningModel:
    """z' = A z + B a, reward -(z'Qz + a'Ra), terminal value -z'Pz."""
    return PlanningModel(
        dynamics=lambda z, a: z @ _t(A_SYS).T + a @ _t(B_SYS).T,
        reward=lambda z, a: -(_quad(z, Q_COST) + _quad(a, R_COST)),
        value=lambda z, a, g: -_quad(z, P_TERMINAL),
        policy=lambda z, g: torch.zeros(z.shape[0], 2),
    )


def lq_optimum(z0: np.ndarray, horizon: int, gamma: float) -> np.ndarray:
    """Exact minimiser (H, 2) of the discounted cost, solved as one quadratic in all actions."""
    n, m = B_SYS.shape
    F, G = [np.eye(n)], [np.zeros((n, horizon * m))]  # z_t = F_t z0 + G_t u
    for t in range(horizon):
        g_next = A_SYS @ G[-1]
        g_next[:, t * m : (t + 1) * m] += B_SYS
        F.append(A_SYS @ F[-1])
        G.append(g_next)
    hess, lin = np.zeros((horizon * m, horizon * m)), np.zeros(horizon * m)
    for t in range(horizon + 1):
        w, cost = gamma**t, Q_COST if t < horizon else P_TERMINAL
        hess += w * G[t].T @ cost @ G[t]
        lin += w * G[t].T @ cost @ F[t] @ z0
        if t < horizon:
            select = np.zeros((m, horizon * m))
            select[:, t * m : (t + 1) * m] = np.eye(m)
            hess += w * select.T @ R_COST @ select
    return np.linalg.solve(hess, -lin).reshape(horizon, m)


def lq_config(**overrides: object) -> WorldModelConfig:
    base = dict(num_samples=256, num_elites=32, num_pi_trajs=4, iterations=8, min_std=0.01)
    base.update(overrides)
    return make_config("tiny", 2, 2, 100, **base)


def test_estimate_value_matches_a_hand_rollout() -> None:
    cfg = lq_config()
    actions = torch.full((cfg.horizon, 1, 2), 0.3)
    z, total, w = _t(Z0)[None], 0.0, 1.0
    for t in range(cfg.horizon):
        total += w * (-(_quad(z, Q_COST) + _quad(actions[t], R_COST))).item()
        z = z @ _t(A_SYS).T + actions[t] @ _t(B_SYS).T
        w *= cfg.discount
    total += w * -_quad(z, P_TERMINAL).item()
    value = estimate_value(lq_model(), _t(Z0), actions, cfg.discount, torch.Generator())
    assert value.item() == pytest.approx(total, rel=1e-5)


def test_termination_cuts_later_rewards_and_bootstrap() -> None:
    model = lq_model()._replace(
        reward=lambda z, a: torch.ones(z.shape[0], 1),
        value=lambda z, a, g: torch.full((z.shape[0], 1), 100.0),
        termination=lambda z: torch.ones(z.shape[0], 1),
    )
    value = estimate_value(model, _t(Z0), torch.zeros(3, 4, 2), 0.9, torch.Generator())
    torch.testing.assert_close(value, torch.ones(4, 1))


@pytest.mark.parametrize("seed", [0, 1])
def test_mppi_finds_the_lq_optimum(seed: int) -> None:
    cfg = lq_config()
    optimum = lq_optimum(Z0, cfg.horizon, cfg.discount)
    assert np.abs(optimum).max() < 0.8  # the constraint [-1, 1] is inactive
    g = torch.Generator().manual_seed(seed)
    action, mean, stats = plan_action(lq_model(), _t(Z0), cfg, g, eval_mode=True)
    assert mean.shape == (cfg.horizon, 2)
    np.testing.assert_allclose(mean.numpy(), optimum, atol=0.03)
    np.testing.assert_allclose(action.numpy(), optimum[0], atol=0.06)
    assert stats["std_mean"].item() < 0.05


def test_training_mode_adds_noise_and_stays_in_bounds() -> None:
    cfg = lq_config(iterations=1, min_std=0.5)
    g = torch.Generator().manual_seed(0)
    actions = torch.stack([plan_action(lq_model(), _t(Z0), cfg, g)[0] for _ in range(20)])
    assert actions.abs().max() <= 1 and actions.std(0).min() > 0.1


def test_same_generator_state_gives_same_plan() -> None:
    cfg = lq_config(iterations=2)
    first = plan_action(lq_model(), _t(Z0), cfg, torch.Generator().manual_seed(3))
    second = plan_action(lq_model(), _t(Z0), cfg, torch.Generator().manual_seed(3))
    torch.testing.assert_close(first[0], second[0], rtol=0, atol=0)
    torch.testing.assert_close(first[1], second[1], rtol=0, atol=0)


def test_large_guidance_returns_the_reference() -> None:
    cfg = lq_config()
    a_ref = _t(np.array([[0.5, -0.5], [0.2, 0.9], [-0.7, 0.1]]))
    g = torch.Generator().manual_seed(0)
    action, mean, _ = plan_action(
        lq_model(), _t(Z0), cfg, g, a_ref=a_ref, guidance_lambda=1e3, eval_mode=True
    )
    torch.testing.assert_close(action, a_ref[0], atol=0.02, rtol=0)
    torch.testing.assert_close(mean, a_ref, atol=0.02, rtol=0)


def test_guidance_pulls_towards_the_reference_gradually() -> None:
    cfg = lq_config()
    optimum = lq_optimum(Z0, cfg.horizon, cfg.discount)
    a_ref = torch.zeros(cfg.horizon, 2)
    dists = []
    for lam in (0.0, 0.3, 3.0):
        g = torch.Generator().manual_seed(0)
        mean = plan_action(lq_model(), _t(Z0), cfg, g, a_ref=a_ref, guidance_lambda=lam)[1]
        dists.append(mean.norm().item())
    assert dists[0] > dists[1] > dists[2]
    assert dists[0] == pytest.approx(np.linalg.norm(optimum), abs=0.05)


def test_without_reference_lambda_has_no_effect() -> None:
    cfg = lq_config(iterations=2)
    plain = plan_action(lq_model(), _t(Z0), cfg, torch.Generator().manual_seed(0))
    guided = plan_action(
        lq_model(), _t(Z0), cfg, torch.Generator().manual_seed(0), guidance_lambda=5.0
    )
    torch.testing.assert_close(plain[0], guided[0], rtol=0, atol=0)


def test_warm_start_shifts_the_previous_mean() -> None:
    # One iteration with every candidate an elite and a flat score: the new mean is the average
    # of the samples, centred on the warm start.
    cfg = lq_config(
        iterations=1,
        num_samples=4096,
        num_elites=4096,
        num_pi_trajs=0,
        max_std=0.1,
        temperature=1e-9,
    )
    prev = _t(np.array([[0.9, 0.9], [0.4, -0.4], [-0.3, 0.2]]))
    mean = plan_action(lq_model(), _t(Z0), cfg, torch.Generator().manual_seed(0), prev_mean=prev)[1]
    expected = torch.cat([prev[1:], torch.zeros(1, 2)])
    torch.testing.assert_close(mean, expected, atol=0.01, rtol=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"a_ref": torch.zeros(2, 2)}, r"a_ref must have shape \(3, 2\)"),
        ({"prev_mean": torch.zeros(3)}, r"prev_mean must have shape \(3, 2\)"),
        ({"guidance_lambda": -1.0}, "guidance_lambda must be >= 0"),
    ],
)
def test_bad_arguments_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_action(lq_model(), _t(Z0), lq_config(), torch.Generator(), **kwargs)
    with pytest.raises(ValueError, match="z0 must be one latent"):
        plan_action(lq_model(), _t(Z0)[None], lq_config(), torch.Generator())


@pytest.mark.parametrize("eval_mode", [True, False])
def test_trust_region_keeps_every_action_near_the_reference(eval_mode: bool) -> None:
    cfg = lq_config()
    a_ref = _t(np.array([[0.5, -0.5], [0.2, 0.9], [-0.7, 0.1]]))
    radius = 0.1
    for seed in range(5):
        g = torch.Generator().manual_seed(seed)
        action, mean, _ = plan_action(lq_model(), _t(Z0), cfg, g, a_ref=a_ref, eval_mode=eval_mode,
                               guidance_radius=radius)  # fmt: skip
        assert (action - a_ref[0]).abs().max() <= radius + 1e-6
        assert (mean - a_ref).abs().max() <= radius + 1e-6


def test_trust_region_still_improves_on_the_reference() -> None:
    # The optimum lies outside the region: the plan moves to the region's edge towards it.
    cfg = lq_config()
    optimum = _t(lq_optimum(Z0, cfg.horizon, cfg.discount))
    a_ref = torch.zeros(cfg.horizon, 2)
    radius = 0.05
    g = torch.Generator().manual_seed(0)
    mean = plan_action(lq_model(), _t(Z0), cfg, g, a_ref=a_ref, guidance_radius=radius)[1]
    far = optimum.abs() > 2 * radius
    torch.testing.assert_close(mean[far], radius * optimum[far].sign(), atol=0.02, rtol=0)


def test_negative_trust_radius_is_refused() -> None:
    with pytest.raises(ValueError, match="guidance_radius"):
        plan_action(lq_model(), _t(Z0), lq_config(), torch.Generator(), guidance_radius=-1.0)

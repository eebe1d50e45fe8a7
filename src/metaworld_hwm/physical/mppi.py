"""MPPI planning in latent space (TD-MPC2), with optional expert guidance.

`plan_action` is a pure function of a `PlanningModel` (plain callables, so an analytic model
works as well as the learned one), a start latent, the config and a generator. Expert guidance: a
reference action sequence `a_ref` seeds the sampling mean, joins the candidates, and with
`guidance_lambda > 0` every candidate's score loses lambda * sum_t ||a_t - a_ref_t||^2. Without
`a_ref` the planner is exactly TD-MPC2's.

A candidate's value splits into a deterministic rollout (rewards, survival, final latent) and
a random bootstrap (policy sample and Q heads at the final latent). The fixed candidates
(policy-prior rollouts, reference) are rolled out once per call instead of once per iteration;
only their bootstrap is redrawn, together with the sampled candidates', in the same order as
before, so the result is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor

from metaworld_hwm.physical.config import WorldModelConfig

__all__ = ["PlanningModel", "Rollout", "bootstrap", "estimate_value", "plan_action", "rollout"]


class PlanningModel(NamedTuple):
    """What the planner needs of a model; latents (N, L), actions (N, A), outputs (N, 1)."""

    dynamics: Callable[[Tensor, Tensor], Tensor]
    """(z, a) -> next latent."""
    reward: Callable[[Tensor, Tensor], Tensor]
    """(z, a) -> reward of taking a in z."""
    value: Callable[[Tensor, Tensor, torch.Generator], Tensor]
    """(z, a, generator) -> state-action value used to bootstrap after the horizon."""
    policy: Callable[[Tensor, torch.Generator], Tensor]
    """(z, generator) -> action sampled from the policy prior."""
    termination: Callable[[Tensor], Tensor] | None = None
    """z -> probability that the episode has ended on arriving in z (episodic tasks only)."""
    rollout: Callable[[Tensor, Tensor, float], Rollout] | None = None
    """Optional fused (z0, actions, discount) -> `Rollout`, equal to `rollout` computed with the
    callables above (a faster path, e.g. `acting.ActingModel`)."""


class Rollout(NamedTuple):
    """The deterministic part of the values of N action sequences."""

    ret: Tensor
    """(N, 1) discounted reward sum over the horizon."""
    alive: Tensor
    """(N, 1) 1 until a termination is predicted, then 0."""
    latent: Tensor
    """(N, L) latent state after the last action."""
    weight: float
    """discount ** horizon, the bootstrap's weight."""


def rollout(model: PlanningModel, z0: Tensor, actions: Tensor, discount: float) -> Rollout:
    """Roll action sequences (H, N, A) out from latent z0 (L,) (the model's fused path when it
    has one); a predicted termination zeroes later rewards."""
    if model.rollout is not None:
        return model.rollout(z0, actions, discount)
    horizon, num = actions.shape[:2]
    z = z0.expand(num, -1)
    ret = torch.zeros(num, 1, dtype=z.dtype, device=z.device)
    alive = torch.ones_like(ret)
    weight = 1.0
    for t in range(horizon):
        ret = ret + weight * alive * model.reward(z, actions[t])
        z = model.dynamics(z, actions[t])
        if model.termination is not None:
            alive = alive * (model.termination(z) <= 0.5).to(z.dtype)
        weight *= discount
    return Rollout(ret, alive, z, weight)


def bootstrap(model: PlanningModel, roll: Rollout, generator: torch.Generator) -> Tensor:
    """Values (N, 1): ret + discount^H * alive * value(z_H, policy(z_H))."""
    z = roll.latent
    last = model.value(z, model.policy(z, generator), generator)
    return roll.ret + roll.weight * roll.alive * last


def estimate_value(
    model: PlanningModel,
    z0: Tensor,
    actions: Tensor,
    discount: float,
    generator: torch.Generator,
) -> Tensor:
    """Discounted return (N, 1) of action sequences (H, N, A) from latent z0 (L,), bootstrapped
    with gamma^H * value(z_H, policy(z_H)); a predicted termination stops later terms."""
    return bootstrap(model, rollout(model, z0, actions, discount), generator)


def _join(first: Rollout | None, second: Rollout) -> Rollout:
    if first is None:
        return second
    ret, alive, latent = (torch.cat([a, b]) for a, b in zip(first[:3], second[:3], strict=True))
    return Rollout(ret, alive, latent, second.weight)


def _check_shape(name: str, x: Tensor | None, shape: tuple[int, ...]) -> None:
    if x is not None and tuple(x.shape) != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(x.shape)}")


class _Elites(NamedTuple):
    """The elites of one MPPI iteration and the sampling distribution they give."""

    value: Tensor
    """(E,) scores of the elite candidates."""
    actions: Tensor
    """(H, E, A) their action sequences."""
    score: Tensor
    """(E,) softmax weights of the elites (temperature `cfg.temperature`)."""
    mean: Tensor
    """(H, A) weighted mean of the elites: the next sampling mean."""
    std: Tensor
    """(H, A) weighted std of the elites, clamped to [min_std, max_std]."""


def _check_inputs(
    z0: Tensor,
    cfg: WorldModelConfig,
    prev_mean: Tensor | None,
    a_ref: Tensor | None,
    guidance_lambda: float,
    guidance_radius: float,
) -> None:
    H, A = cfg.horizon, cfg.action_dim
    if z0.ndim != 1:
        raise ValueError(f"z0 must be one latent of shape (latent_dim,), got {tuple(z0.shape)}")
    _check_shape("prev_mean", prev_mean, (H, A))
    _check_shape("a_ref", a_ref, (H, A))
    if guidance_lambda < 0:
        raise ValueError(f"guidance_lambda must be >= 0, got {guidance_lambda}")
    if guidance_radius < 0:
        raise ValueError(f"guidance_radius must be >= 0, got {guidance_radius}")


Region = tuple[Tensor, Tensor] | None
"""Per-entry action bounds (low, high), each (H, A), or None for plain [-1, 1]."""


def _bounded(actions: Tensor, region: Region) -> Tensor:
    """Candidates (H, N, A) inside [-1, 1] and, with a trust region, inside it."""
    if region is None:
        return actions.clamp(-1, 1)
    return actions.clamp(region[0].unsqueeze(1), region[1].unsqueeze(1))


def _fixed_candidates(
    model_fns: PlanningModel,
    z0: Tensor,
    cfg: WorldModelConfig,
    generator: torch.Generator,
    a_ref: Tensor | None,
    region: Region,
) -> list[Tensor]:
    """The candidates that are not resampled, each (H, n, A): `cfg.num_pi_trajs` rollouts of
    the policy prior from z0, then the reference."""
    fixed: list[Tensor] = []
    if cfg.num_pi_trajs > 0:
        z = z0.expand(cfg.num_pi_trajs, -1)
        prior = []
        for t in range(cfg.horizon):
            prior.append(model_fns.policy(z, generator))
            if t < cfg.horizon - 1:
                z = model_fns.dynamics(z, prior[-1])
        fixed.append(_bounded(torch.stack(prior), region))
    if a_ref is not None:
        fixed.append(a_ref.unsqueeze(1))
    return fixed


def _initial_mean(
    cfg: WorldModelConfig, z0: Tensor, prev_mean: Tensor | None, a_ref: Tensor | None
) -> Tensor:
    """The first sampling mean (H, A): the reference, else the warm start shifted one step,
    else zeros."""
    if a_ref is not None:
        return a_ref.clone()
    mean = torch.zeros(cfg.horizon, cfg.action_dim, dtype=z0.dtype, device=z0.device)
    if prev_mean is not None:
        mean[:-1] = prev_mean[1:].to(device=z0.device, dtype=z0.dtype)
    return mean


def _elites(cfg: WorldModelConfig, value: Tensor, actions: Tensor, max_std: float) -> _Elites:
    """The top `cfg.num_elites` of candidates (H, N, A) scored `value` (N,), and the
    distribution they give."""
    elite_value, elite_idx = torch.topk(value, cfg.num_elites)
    elite_actions = actions[:, elite_idx]
    score = torch.exp(cfg.temperature * (elite_value - elite_value.max()))
    score = score / score.sum()
    mean = (score.view(1, -1, 1) * elite_actions).sum(1)
    var = (score.view(1, -1, 1) * (elite_actions - mean.unsqueeze(1)).pow(2)).sum(1)
    std = var.sqrt().clamp(min(cfg.min_std, max_std), max_std)
    return _Elites(elite_value, elite_actions, score, mean, std)


def _iterate(
    model_fns: PlanningModel,
    z0: Tensor,
    cfg: WorldModelConfig,
    generator: torch.Generator,
    fixed: list[Tensor],
    mean: Tensor,
    max_std: float,
    a_ref: Tensor | None,
    guidance_lambda: float,
    region: Region,
) -> _Elites:
    """`cfg.iterations` rounds of MPPI from `mean` and std `max_std`: sample around the mean,
    score the samples with the fixed candidates (minus guidance_lambda * the squared distance
    to `a_ref` when both are set), refit the mean and std to the elites."""
    H, A = cfg.horizon, cfg.action_dim
    std = torch.full((H, A), max_std, dtype=z0.dtype, device=z0.device)
    fixed_roll = rollout(model_fns, z0, torch.cat(fixed, 1), cfg.discount) if fixed else None
    for _ in range(cfg.iterations):
        shape = (H, cfg.num_samples, A)
        noise = torch.randn(shape, generator=generator, device=z0.device, dtype=z0.dtype)
        sampled = _bounded(mean.unsqueeze(1) + std.unsqueeze(1) * noise, region)
        actions = torch.cat([*fixed, sampled], dim=1)
        roll = _join(fixed_roll, rollout(model_fns, z0, sampled, cfg.discount))
        value = bootstrap(model_fns, roll, generator).squeeze(1)
        if a_ref is not None and guidance_lambda > 0:
            value = value - guidance_lambda * (actions - a_ref.unsqueeze(1)).pow(2).sum((0, 2))
        elites = _elites(cfg, value, actions, max_std)
        mean, std = elites.mean, elites.std
    return elites


def _select_action(
    elites: _Elites,
    generator: torch.Generator,
    eval_mode: bool,
    region: Region,
    like: Tensor,
) -> Tensor:
    """The first action of one elite drawn by its weight (Gumbel-max), with exploration noise
    of the final std unless `eval_mode`, clamped to [-1, 1] or the trust region; random
    numbers of the dtype and device of `like`."""
    device, dtype = like.device, like.dtype
    uniform = torch.rand(elites.score.shape, generator=generator, device=device, dtype=dtype)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-20, 1.0)).clamp_min(1e-20))
    chosen = torch.argmax(elites.score.log() + gumbel)
    action = elites.actions[0, chosen]
    if not eval_mode:
        A = action.shape[-1]
        noise = torch.randn(A, generator=generator, device=device, dtype=dtype)
        action = action + elites.std[0] * noise
    return action.clamp(-1, 1) if region is None else action.clamp(region[0][0], region[1][0])


def plan_action(
    model_fns: PlanningModel,
    z0: Tensor,
    cfg: WorldModelConfig,
    generator: torch.Generator,
    prev_mean: Tensor | None = None,
    a_ref: Tensor | None = None,
    guidance_lambda: float = 0.0,
    eval_mode: bool = False,
    guidance_radius: float = 0.0,
) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """Plan one action from latent `z0` (latent_dim,) by MPPI over `cfg.horizon` steps.

    prev_mean: the mean (H, A) returned by the previous call in this episode, shifted one step
        as a warm start; None at the start of an episode.
    a_ref: reference actions (H, A) from the experts, clamped to [-1, 1]; replaces the warm
        start as the initial mean and is scored as one more candidate.
    guidance_lambda: weight of the squared distance to `a_ref` subtracted from each score.
    eval_mode: when False, the returned action gets exploration noise of the final std.
    guidance_radius: with `a_ref`, a trust region: every candidate (sampled, prior, and the
        returned action with its noise) is clipped to `a_ref +- guidance_radius` per action
        entry, and the sampling std to the radius. 0 disables it (plain TD-MPC2 sampling).

    Returns the action (A,) in [-1, 1], the final mean (H, A) to pass back as `prev_mean`, and
    statistics (0-d tensors): mean and max elite value, mean final std.
    """
    _check_inputs(z0, cfg, prev_mean, a_ref, guidance_lambda, guidance_radius)
    region: Region = None
    if a_ref is not None:
        a_ref = a_ref.to(device=z0.device, dtype=z0.dtype).clamp(-1, 1)
        if guidance_radius > 0:
            region = (a_ref - guidance_radius).clamp(-1, 1), (a_ref + guidance_radius).clamp(-1, 1)
    # Random numbers are drawn in this order: prior rollouts, iterations, the choice.
    fixed = _fixed_candidates(model_fns, z0, cfg, generator, a_ref, region)
    mean = _initial_mean(cfg, z0, prev_mean, a_ref)
    max_std = guidance_radius if region is not None else cfg.max_std
    elites = _iterate(
        model_fns, z0, cfg, generator, fixed, mean, max_std, a_ref, guidance_lambda, region
    )
    action = _select_action(elites, generator, eval_mode, region, like=z0)
    stats = {
        "elite_value_mean": elites.value.mean(),
        "elite_value_max": elites.value.max(),
        "std_mean": elites.std.mean(),
    }
    return action, elites.mean, stats

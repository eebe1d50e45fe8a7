"""MPPI planning in latent space (TD-MPC2), with optional expert guidance.

`plan` is a pure function of a `PlanningModel` (plain callables, so an analytic model works as
well as the learned one), a start latent, the config and a generator. Expert guidance: a
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

__all__ = ["PlanningModel", "Rollout", "bootstrap", "estimate_value", "plan", "rollout"]


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


def plan(
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
    H, A = cfg.horizon, cfg.action_dim
    if z0.ndim != 1:
        raise ValueError(f"z0 must be one latent of shape (latent_dim,), got {tuple(z0.shape)}")
    _check_shape("prev_mean", prev_mean, (H, A))
    _check_shape("a_ref", a_ref, (H, A))
    if guidance_lambda < 0:
        raise ValueError(f"guidance_lambda must be >= 0, got {guidance_lambda}")
    if guidance_radius < 0:
        raise ValueError(f"guidance_radius must be >= 0, got {guidance_radius}")
    device, dtype = z0.device, z0.dtype
    region = None
    if a_ref is not None:
        a_ref = a_ref.to(device=device, dtype=dtype).clamp(-1, 1)
        if guidance_radius > 0:
            region = (a_ref - guidance_radius).clamp(-1, 1), (a_ref + guidance_radius).clamp(-1, 1)

    def bounded(actions: Tensor) -> Tensor:
        """Candidates (H, N, A) inside [-1, 1] and, with a trust region, inside it."""
        if region is None:
            return actions.clamp(-1, 1)
        return actions.clamp(region[0].unsqueeze(1), region[1].unsqueeze(1))

    fixed: list[Tensor] = []  # candidates that are not resampled: prior rollouts, reference
    if cfg.num_pi_trajs > 0:
        z = z0.expand(cfg.num_pi_trajs, -1)
        prior = []
        for t in range(H):
            prior.append(model_fns.policy(z, generator))
            if t < H - 1:
                z = model_fns.dynamics(z, prior[-1])
        fixed.append(bounded(torch.stack(prior)))
    mean = torch.zeros(H, A, dtype=dtype, device=device)
    if a_ref is not None:
        mean = a_ref.clone()
        fixed.append(a_ref.unsqueeze(1))
    elif prev_mean is not None:
        mean[:-1] = prev_mean[1:].to(device=device, dtype=dtype)
    max_std = guidance_radius if region is not None else cfg.max_std
    std = torch.full((H, A), max_std, dtype=dtype, device=device)
    fixed_roll = rollout(model_fns, z0, torch.cat(fixed, 1), cfg.discount) if fixed else None

    for _ in range(cfg.iterations):
        shape = (H, cfg.num_samples, A)
        noise = torch.randn(shape, generator=generator, device=device, dtype=dtype)
        sampled = bounded(mean.unsqueeze(1) + std.unsqueeze(1) * noise)
        actions = torch.cat([*fixed, sampled], dim=1)
        roll = _join(fixed_roll, rollout(model_fns, z0, sampled, cfg.discount))
        value = bootstrap(model_fns, roll, generator).squeeze(1)
        if a_ref is not None and guidance_lambda > 0:
            value = value - guidance_lambda * (actions - a_ref.unsqueeze(1)).pow(2).sum((0, 2))
        elite_value, elite_idx = torch.topk(value, cfg.num_elites)
        elite_actions = actions[:, elite_idx]
        score = torch.exp(cfg.temperature * (elite_value - elite_value.max()))
        score = score / score.sum()
        mean = (score.view(1, -1, 1) * elite_actions).sum(1)
        var = (score.view(1, -1, 1) * (elite_actions - mean.unsqueeze(1)).pow(2)).sum(1)
        std = var.sqrt().clamp(min(cfg.min_std, max_std), max_std)

    uniform = torch.rand(score.shape, generator=generator, device=device, dtype=dtype)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-20, 1.0)).clamp_min(1e-20))
    chosen = torch.argmax(score.log() + gumbel)
    action = elite_actions[0, chosen]
    if not eval_mode:
        action = action + std[0] * torch.randn(A, generator=generator, device=device, dtype=dtype)
    action = action.clamp(-1, 1) if region is None else action.clamp(region[0][0], region[1][0])
    stats = {
        "elite_value_mean": elite_value.mean(),
        "elite_value_max": elite_value.max(),
        "std_mean": std.mean(),
    }
    return action, mean, stats

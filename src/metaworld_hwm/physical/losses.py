"""TD-MPC2 training objectives: TD targets, the joint world-model loss and the policy loss.

Batches are sub-trajectories, time first: obs (H+1, B, obs_dim), action (H, B, A), reward and
terminated (H, B, 1), and for expert guidance a_ref (H, B, A). Step t of every loss is weighted
by rho^t. Only `terminated` cuts bootstrapping: a time-limit truncation is stored as
terminated = 0 and its target still bootstraps from the next state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.functional import binary_cross_entropy_with_logits, mse_loss

from metaworld_hwm.physical.config import WorldModelConfig
from metaworld_hwm.physical.math import soft_cross_entropy
from metaworld_hwm.physical.world_model import WorldModel

__all__ = [
    "PolicyLoss",
    "RunningScale",
    "TDTargets",
    "TargetNoise",
    "WorldModelLoss",
    "compute_td_target",
    "draw_target_noise",
    "policy_loss",
    "td_target",
    "td_targets",
    "world_model_loss",
]


class RunningScale(nn.Module):
    """Running estimate of the spread of Q values: the 5-95th percentile range, at least 1,
    averaged with rate `rate`; the policy loss divides Q by it."""

    value: Tensor

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate
        self.register_buffer("value", torch.ones(()))

    @torch.no_grad()
    def update(self, q: Tensor) -> None:
        """Blend the percentile range of `q` (any shape) into the running value."""
        probs = torch.tensor([0.05, 0.95], dtype=q.dtype, device=q.device)
        low, high = torch.quantile(q.detach().flatten(), probs)
        self.value.lerp_(torch.clamp(high - low, min=1.0), self.rate)


def _rho_weights(cfg: WorldModelConfig, steps: int, like: Tensor) -> Tensor:
    return cfg.rho ** torch.arange(steps, dtype=like.dtype, device=like.device)


def td_target(reward: Tensor, terminated: Tensor, discount: float, next_value: Tensor) -> Tensor:
    """r + gamma * (1 - terminated) * V(s'): termination cuts the bootstrap, nothing else does."""
    return reward + discount * (1 - terminated) * next_value


class TargetNoise(NamedTuple):
    """The random draws of one batch's TD targets, drawn ahead of computing them."""

    policy: Tensor
    """(H, B, A) standard normal noise of the policy samples at the next latents."""
    heads: Tensor
    """(2,) indices of the target Q heads."""


def draw_target_noise(
    model: WorldModel, reward: Tensor, generator: torch.Generator
) -> TargetNoise:
    """Draw from `generator` the TD targets' noise for a batch with rewards `reward`
    (H, B, 1; their shape, dtype and device are used), in the order and with the values that
    computing the targets from `generator` directly would draw."""
    shape = (*reward.shape[:-1], model.cfg.action_dim)
    policy = torch.randn(shape, generator=generator, device=reward.device, dtype=reward.dtype)
    return TargetNoise(policy, model.random_heads(generator))


@torch.no_grad()
def compute_td_target(
    model: WorldModel,
    next_z: Tensor,
    reward: Tensor,
    terminated: Tensor,
    noise: torch.Generator | TargetNoise,
) -> Tensor:
    """TD target with V(s') the min of two random target Q heads at (z', pi(z')); the policy
    noise and the heads come from `noise` (a generator, or `draw_target_noise`'s draws)."""
    if not isinstance(noise, TargetNoise):
        noise = draw_target_noise(model, reward, noise)
    next_action = model.pi(next_z, noise.policy).action
    next_value = model.q_value(next_z, next_action, noise.heads, target=True).min(0).values
    return td_target(reward, terminated, model.cfg.discount, next_value)


class TDTargets(NamedTuple):
    """What the world-model loss needs from the next observations, all without gradient."""

    next_z: Tensor
    """(H, B, L) latents of obs[1:], the consistency loss's targets."""
    value: Tensor
    """(H, B, 1) TD targets of the Q heads."""


@torch.no_grad()
def td_targets(
    model: WorldModel, batch: dict[str, Tensor], noise: torch.Generator | TargetNoise
) -> TDTargets:
    """Encode the batch's next observations and compute its TD targets (see
    `compute_td_target` for `noise`)."""
    next_z = model.encode(batch["obs"][1:])
    value = compute_td_target(model, next_z, batch["reward"], batch["terminated"], noise)
    return TDTargets(next_z, value)


class WorldModelLoss(NamedTuple):
    total: Tensor
    """Weighted sum of the terms below, to minimise."""
    zs: Tensor
    """Latent rollout (H+1, B, L) from enc(obs_0) through the dynamics, with gradient."""
    terms: dict[str, Tensor]
    """Unweighted 0-d terms: consistency, reward, value, termination."""


def world_model_loss(
    model: WorldModel,
    batch: dict[str, Tensor],
    generator: torch.Generator,
    targets: TDTargets | Callable[[], TDTargets] | None = None,
) -> WorldModelLoss:
    """Joint loss of encoder, dynamics, reward, termination and Q heads on one batch.

    targets: None computes the TD targets here, first, drawing their noise from `generator`.
    Otherwise the targets computed ahead (`td_targets` with noise drawn from `generator`
    before this call), or a callable returning them, called once the forward pass with
    gradient needs them (so another thread can compute them meanwhile). Each gives the same
    loss. Afterwards `generator` draws only the Q dropout masks.
    """
    cfg = model.cfg
    obs, action = batch["obs"], batch["action"]
    reward, terminated = batch["reward"], batch["terminated"]
    horizon = action.shape[0]
    if targets is None:
        targets = td_targets(model, batch, generator)

    z = model.encode(obs[0])
    zs = [z]
    for t in range(horizon):
        z = model.next(z, action[t])
        zs.append(z)
    zs_all = torch.stack(zs)
    rho = _rho_weights(cfg, horizon, obs)

    reward_ce = soft_cross_entropy(model.reward(zs_all[:-1], action), reward, cfg.vmin, cfg.vmax)
    reward_loss = (reward_ce.mean((1, 2)) * rho).mean()
    q_logits = model.q_logits(zs_all[:-1], action, dropout_generator=generator)
    if not isinstance(targets, TDTargets):
        targets = targets()
    consistency = (
        mse_loss(zs_all[1:], targets.next_z, reduction="none").mean((1, 2)) * rho
    ).mean()
    value_ce = soft_cross_entropy(q_logits, targets.value, cfg.vmin, cfg.vmax)  # over heads
    value_loss = (value_ce.mean((2, 3)) * rho).mean()
    terms = {"consistency": consistency, "reward": reward_loss, "value": value_loss}
    total = (
        cfg.consistency_coef * consistency
        + cfg.reward_coef * reward_loss
        + cfg.value_coef * value_loss
    )
    if cfg.episodic:
        term_logits = model.termination(zs_all[1:])
        termination = binary_cross_entropy_with_logits(term_logits, terminated)
        terms["termination"] = termination
        total = total + cfg.termination_coef * termination
    return WorldModelLoss(total, zs_all, terms)


class PolicyLoss(NamedTuple):
    total: Tensor
    terms: dict[str, Tensor]
    """0-d tensors: q (scaled, rho-weighted mean), entropy, guidance (when a_ref was given)."""


def policy_loss(
    model: WorldModel,
    zs: Tensor,
    scale: RunningScale,
    generator: torch.Generator,
    a_ref: Tensor | None = None,
) -> PolicyLoss:
    """Loss of the policy prior on detached latents zs (H+1, B, L); updates `scale`.

    Maximises rho^t-weighted Q(z, pi(z)) / scale + entropy_coef * action_dim * entropy, Q the
    mean of two random heads with frozen parameters. With `a_ref` (H, B, A) and
    `guidance_lambda > 0` it adds lambda * ||mean action - a_ref||^2 on the first H latents.
    """
    cfg = model.cfg
    sample = model.pi(zs, generator)
    heads = model.random_heads(generator)
    q = model.q_value(zs, sample.action, heads, detach=True).mean(0)
    scale.update(q[0])
    rho = _rho_weights(cfg, zs.shape[0], zs)
    entropy = -sample.log_prob
    objective = q / scale.value + cfg.entropy_coef * cfg.action_dim * entropy
    total = -(objective.mean((1, 2)) * rho).mean()
    terms = {"q": (q.mean((1, 2)) * rho).mean() / scale.value, "entropy": entropy.mean()}
    if a_ref is not None and cfg.guidance_lambda > 0:
        sq_dist = (sample.mean[:-1] - a_ref).pow(2).sum(-1)
        guidance = (sq_dist.mean(1) * rho[:-1]).mean()
        terms["guidance"] = guidance
        total = total + cfg.guidance_lambda * guidance
    return PolicyLoss(total, terms)

"""The TD-MPC2 implicit world model: encoder, latent dynamics, reward, termination, policy prior
and Q ensemble (with its Polyak-averaged target), all on SimNorm latent states.

Shapes: observations (..., obs_dim), latents (..., latent_dim), actions (..., action_dim) in
[-1, 1]; reward and Q heads return logits over `num_bins` two-hot bins.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import torch
from torch import Tensor, nn

from metaworld_hwm.physical.config import WorldModelConfig
from metaworld_hwm.physical.layers import mlp
from metaworld_hwm.physical.math import (
    SimNorm,
    gaussian_log_prob,
    scale_log_std,
    tanh_squash,
    two_hot_inv,
)
from metaworld_hwm.physical.q_ensemble import QEnsemble

__all__ = ["PolicySample", "WorldModel", "policy_sample"]


class PolicySample(NamedTuple):
    """One draw from the tanh-squashed Gaussian policy prior."""

    action: Tensor
    """Sampled action tanh(mean + std * eps), in [-1, 1]."""
    mean: Tensor
    """Squashed mean tanh(mean), the deterministic action."""
    log_std: Tensor
    log_prob: Tensor
    """Log-density of `action` (..., 1), tanh correction included; the entropy estimate is
    its negative."""


def policy_sample(
    out: Tensor, cfg: WorldModelConfig, noise: torch.Generator | Tensor
) -> PolicySample:
    """Sample the tanh-Gaussian whose mean and raw log-std are the policy network's output
    `out` (..., 2 * action_dim). noise: a generator to draw the standard normal noise from,
    or that noise itself (..., action_dim), drawn earlier (e.g. on another thread)."""
    mean, raw_log_std = out.chunk(2, dim=-1)
    log_std = scale_log_std(raw_log_std, cfg.log_std_min, cfg.log_std_max)
    if isinstance(noise, Tensor):
        if noise.shape != mean.shape:
            raise ValueError(f"policy noise must have shape {tuple(mean.shape)}, got "
                             f"{tuple(noise.shape)}")  # fmt: skip
        eps = noise
    else:
        eps = torch.randn(mean.shape, generator=noise, device=mean.device, dtype=mean.dtype)
    log_prob = gaussian_log_prob(eps, log_std)
    squashed_mean, action, log_prob = tanh_squash(mean, mean + eps * log_std.exp(), log_prob)
    return PolicySample(action, squashed_mean, log_std, log_prob)


class WorldModel(nn.Module):
    """All learned parts of TD-MPC2 for one task with state observations.

    `generator` only seeds the initial weights; every later random draw takes the generator
    passed to the method that needs it.
    """

    def __init__(self, cfg: WorldModelConfig, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        latent, act, hidden = cfg.latent_dim, cfg.action_dim, 2 * [cfg.mlp_dim]
        enc_hidden = max(cfg.num_enc_layers - 1, 1) * [cfg.enc_dim]
        self.encoder = mlp(cfg.obs_dim, enc_hidden, latent, generator, SimNorm(cfg.simnorm_dim))
        self.dynamics = mlp(latent + act, hidden, latent, generator, SimNorm(cfg.simnorm_dim))
        self.reward_head = mlp(latent + act, hidden, cfg.num_bins, generator)
        self.termination_head = mlp(latent, hidden, 1, generator) if cfg.episodic else None
        self.policy = mlp(latent, hidden, 2 * act, generator)
        self.q = QEnsemble(cfg.num_q, latent + act, hidden, cfg.num_bins, cfg.dropout, generator)
        with torch.no_grad():
            self.reward_head[-1].weight.zero_()
        self.target_q = copy.deepcopy(self.q).requires_grad_(False)

    def encode(self, obs: Tensor) -> Tensor:
        """Latent state (..., latent_dim) of observations (..., obs_dim)."""
        return self.encoder(obs)

    def next(self, z: Tensor, a: Tensor) -> Tensor:
        """Predicted next latent state after taking action `a` in `z`."""
        return self.dynamics(torch.cat([z, a], dim=-1))

    def reward(self, z: Tensor, a: Tensor) -> Tensor:
        """Reward logits (..., num_bins) of taking `a` in `z`."""
        return self.reward_head(torch.cat([z, a], dim=-1))

    def termination(self, z: Tensor) -> Tensor:
        """Termination logits (..., 1) of arriving in `z` (episodic tasks only)."""
        if self.termination_head is None:
            raise RuntimeError("termination() needs a model built with episodic=True")
        return self.termination_head(z)

    def pi(self, z: Tensor, noise: torch.Generator | Tensor) -> PolicySample:
        """Sample the policy prior at `z` with noise drawn from a generator, or given
        (..., action_dim; see `policy_sample`)."""
        return policy_sample(self.policy(z), self.cfg, noise)

    def q_logits(
        self,
        z: Tensor,
        a: Tensor,
        heads: Tensor | None = None,
        *,
        target: bool = False,
        detach: bool = False,
        dropout_generator: torch.Generator | None = None,
    ) -> Tensor:
        """Q logits (k, ..., num_bins) of the selected heads (all when `heads` is None).

        target: use the Polyak-averaged target ensemble. detach: use the online ensemble's
        parameters without gradient. dropout_generator: see `QEnsemble.forward`.
        """
        net = self.target_q if target else self.q
        if detach and torch.is_grad_enabled() and a.requires_grad and not z.requires_grad:
            # the policy loss: only the action needs a gradient
            z = z.expand(*a.shape[:-1], z.shape[-1])
            return net(a, heads, detach=True, dropout_generator=dropout_generator, const=z)
        za = torch.cat([z, a], dim=-1)
        return net(za, heads, detach=detach, dropout_generator=dropout_generator)

    def q_value(
        self,
        z: Tensor,
        a: Tensor,
        heads: Tensor | None = None,
        *,
        target: bool = False,
        detach: bool = False,
    ) -> Tensor:
        """Decoded Q values (k, ..., 1) of the selected heads, without dropout."""
        logits = self.q_logits(z, a, heads, target=target, detach=detach)
        return two_hot_inv(logits, self.cfg.vmin, self.cfg.vmax)

    def random_heads(self, generator: torch.Generator, k: int = 2) -> Tensor:
        """Indices of `k` distinct Q heads drawn uniformly from `generator`."""
        return torch.randperm(self.cfg.num_q, generator=generator, device=generator.device)[:k]

    def soft_update_target(self) -> None:
        """Move the target ensemble towards the online one by `cfg.polyak_rate` (Polyak
        averaging)."""
        self.target_q.lerp_from(self.q, self.cfg.polyak_rate)

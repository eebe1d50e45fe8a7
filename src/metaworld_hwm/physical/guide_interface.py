"""The tier-agnostic interface through which tier 2 (or anything) guides tier 3.

A reference provider maps a batch of observations (N, obs_dim) to reference actions (N, A),
one per observation, held over the planning horizon (``TDMPC2Agent.act`` also takes a
(H, A) sequence directly). The planner seeds MPPI with it and penalises
``lambda * ||a - a_ref||^2``; the policy-prior loss adds the same penalty. With no provider
and ``lambda = 0`` the agent is plain TD-MPC2.

A :class:`Guide` is what the trainer sees: a provider with closed-loop state. It keeps
per-episode state (the plan and its active sub-goal), exposes the active semantic weights as a
*context* vector stored with each transition, turns (observation, context) pairs into
reference actions, and may learn its own parameters (phi, psi) from the world model's Q.
:class:`ProviderGuide` adapts a plain :class:`ReferenceProvider` (no context, no learning), so
any callable from observations to actions can guide the planner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch

__all__ = ["Guide", "ProviderGuide", "QFunction", "ReferenceProvider"]

#: Q(z, a) of the world model, as guides that learn from it receive it.
QFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class ReferenceProvider(Protocol):
    """Callable: observations (N, obs_dim) -> reference actions (N, A) in [-1, 1]."""

    def __call__(self, obs: np.ndarray) -> np.ndarray: ...


class Guide(Protocol):
    """Reference actions for the planner and the policy prior, with closed-loop state."""

    context_dim: int

    def start_episode(self, obs: np.ndarray) -> list[dict[str, Any]]:
        """Reset per-episode state (plan the instruction); returns events to log."""
        ...

    def observe(self, obs: np.ndarray, info: dict[str, Any]) -> list[dict[str, Any]]:
        """Advance the closed loop after an env step; returns events to log."""
        ...

    def context(self) -> np.ndarray:
        """The active context vector (context_dim,)."""
        ...

    def reference(self, obs: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        """Reference actions (N, A) for observations (N, D) and contexts (N, context_dim)."""
        ...

    def learn(self, obs: torch.Tensor, context: torch.Tensor | None, q_fn: QFunction) -> dict:
        """One gradient step of the guide's own parameters; returns metrics."""
        ...

    def spawn(self) -> Guide:
        """A guide sharing the learned parts, with its own episode state (for evaluation)."""
        ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class ProviderGuide:
    """A stateless guide around a :class:`ReferenceProvider`."""

    context_dim = 0

    def __init__(self, provider: ReferenceProvider) -> None:
        self.provider = provider

    def start_episode(self, obs: np.ndarray) -> list[dict[str, Any]]:
        return []

    def observe(self, obs: np.ndarray, info: dict[str, Any]) -> list[dict[str, Any]]:
        return []

    def context(self) -> np.ndarray:
        return np.zeros(0, dtype=np.float32)

    def reference(self, obs: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        ref = np.asarray(self.provider(obs), dtype=np.float32)
        if ref.ndim != 2 or ref.shape[0] != obs.shape[0]:
            raise ValueError(
                f"reference provider returned shape {ref.shape} for {obs.shape[0]} observations; "
                "expected (N, action_dim)"
            )
        if not np.isfinite(ref).all():
            raise ValueError("reference provider returned NaN or inf actions")
        return ref

    def learn(self, obs: torch.Tensor, context: torch.Tensor | None, q_fn: QFunction) -> dict:
        return {}

    def spawn(self) -> ProviderGuide:
        return self

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""

"""The tier-agnostic interface through which tier 2 (or anything) guides tier 3.

A reference provider maps a batch of observations to reference actions: shape (N, A) for one
action per observation (held over the planning horizon), or (N, H, A) for a sequence. The
planner seeds MPPI with it and penalises ``lambda * ||a - a_ref||^2``; the policy-prior loss
adds the same penalty. With no provider and ``lambda = 0`` the agent is plain TD-MPC2.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class ReferenceProvider(Protocol):
    """Callable: observations (N, obs_dim) -> reference actions (N, A) or (N, H, A) in [-1, 1]."""

    def __call__(self, obs: np.ndarray) -> np.ndarray: ...


def reference_sequence(
    provider: ReferenceProvider, obs: np.ndarray, horizon: int, action_dim: int
) -> np.ndarray:
    """Reference actions (N, H, A) for observations (N, obs_dim), checked for shape and value."""
    ref = np.asarray(provider(obs), dtype=np.float32)
    n = obs.shape[0]
    if ref.shape == (n, action_dim):
        ref = np.repeat(ref[:, None, :], horizon, axis=1)
    if ref.shape != (n, horizon, action_dim):
        raise ValueError(
            f"reference provider returned shape {ref.shape} for {n} observations; expected "
            f"({n}, {action_dim}) or ({n}, {horizon}, {action_dim})"
        )
    if not np.isfinite(ref).all():
        raise ValueError("reference provider returned NaN or inf actions")
    return ref

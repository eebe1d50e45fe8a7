"""The tier-agnostic interface through which tier 2 (or anything) guides tier 3.

A reference provider maps a batch of observations (N, obs_dim) to reference actions (N, A),
one per observation, held over the planning horizon (``TDMPC2Agent.act`` also takes a
(H, A) sequence directly). The
planner seeds MPPI with it and penalises ``lambda * ||a - a_ref||^2``; the policy-prior loss
adds the same penalty. With no provider and ``lambda = 0`` the agent is plain TD-MPC2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import torch

#: Q(z, a) of the world model, as guides that learn from it receive it.
QFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class ReferenceProvider(Protocol):
    """Callable: observations (N, obs_dim) -> reference actions (N, A) in [-1, 1]."""

    def __call__(self, obs: np.ndarray) -> np.ndarray: ...


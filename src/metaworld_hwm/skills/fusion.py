"""State-aware expert fusion (paper eq. 3): the Zero-shot Behavioral Compositor.

    p(i|s) = softmax_i(phi(s)^T psi_i)             phi: learnable state encoder (MLP)
    w~     = alpha * w + (1 - alpha) * p(.|s)      w: semantic weights from tier 1
    a_ref  = sum_i w~_i * pi_i(s)

Training (:func:`fusion_loss`): phi and psi (and the learned weighting of the "w/o VLM"
ablation) maximise the world model's Q(z, a_ref) through the fusion, the TD-MPC2 policy-loss
recipe with a_ref in place of the policy's action: the experts are fixed, so the only thing to
learn is how to mix them, and Q is the differentiable return estimate the agent already trains.
Q is divided by its batch mean magnitude (no gradient) so the step size does not depend on the
reward scale. An entropy bonus on p keeps the softmax from saturating on one expert before Q
is informative; a saturated softmax passes almost no gradient to the other experts.

Ablations (named in :mod:`metaworld_hwm.agent.variants`): "w/o dynamic selection" is
alpha = 1 (p ignored); "w/o VLM" replaces w by softmax(MLP(s)) (``semantic="learned"``), a
randomly initialised weighting trained by the same gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from metaworld_hwm.skills.expert import Expert


@dataclass(frozen=True)
class FusionConfig:
    """Settings of the compositor."""

    alpha: float = 0.7
    """Weight of the semantic weights w against the state-aware p (paper: 0.7)."""
    feature_dim: int = 16
    hidden_dim: int = 64
    entropy_coef: float = 0.01
    semantic: str = "planner"
    """"planner": w comes from tier 1; "learned": w = softmax(MLP(s)) (the w/o VLM ablation)."""
    sharpness: float = 1.0
    """w~ is raised to this power and renormalised before the experts' actions are mixed;
    1 is the paper's blend. Mixing a gait with other experts' actions breaks it (a walker
    mixed 80/20 with the stand expert falls), so a sharper mix keeps the leading expert whole
    while weights far from a tie, and still cross-fades near one."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"FusionConfig.alpha must lie in [0, 1], got {self.alpha}")
        if self.semantic not in ("planner", "learned"):
            raise ValueError(
                f"FusionConfig.semantic must be 'planner' or 'learned', got {self.semantic!r}"
            )
        if self.feature_dim < 1 or self.hidden_dim < 1 or self.entropy_coef < 0:
            raise ValueError("feature_dim and hidden_dim must be >= 1, entropy_coef >= 0")
        if not self.sharpness >= 1.0:
            raise ValueError(f"FusionConfig.sharpness must be >= 1, got {self.sharpness}")


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.LayerNorm(hidden), nn.ELU(), nn.Linear(hidden, n_out)
    )


class Compositor(nn.Module):
    """phi, psi (and the learned weighting of "no_vlm") over K experts.

    psi: initial expert features (K, feature_dim), e.g. ``np.stack([e.psi for e in experts])``.
    """

    def __init__(
        self, obs_dim: int, psi: np.ndarray | Tensor, cfg: FusionConfig | None = None
    ) -> None:
        super().__init__()
        self.cfg = cfg or FusionConfig()
        psi_t = torch.as_tensor(np.asarray(psi), dtype=torch.float32)
        if psi_t.ndim != 2 or psi_t.shape[1] != self.cfg.feature_dim:
            raise ValueError(
                f"psi must have shape (num_experts, {self.cfg.feature_dim}), got "
                f"{tuple(psi_t.shape)}; set FusionConfig.feature_dim to the experts' psi length"
            )
        self.num_experts = psi_t.shape[0]
        self.phi = _mlp(obs_dim, self.cfg.hidden_dim, self.cfg.feature_dim)
        self.psi = nn.Parameter(psi_t.clone())
        self.weighting = (
            _mlp(obs_dim, self.cfg.hidden_dim, self.num_experts)
            if self.cfg.semantic == "learned"
            else None
        )

    def selection_probs(self, obs: Tensor) -> Tensor:
        """p(i|s) (B, K) for observations (B, obs_dim)."""
        return torch.softmax(self.phi(obs) @ self.psi.T, dim=-1)

    def semantic_weights(self, obs: Tensor, w: Tensor | None) -> Tensor:
        """w (B, K): the planner's (given as (K,) or (B, K)) or the learned weighting's."""
        if self.weighting is not None:
            return torch.softmax(self.weighting(obs), dim=-1)
        if w is None:
            raise ValueError(
                "semantic weights w are required unless FusionConfig.semantic='learned'"
            )
        w = torch.as_tensor(w, dtype=obs.dtype, device=obs.device)
        w = w.expand(obs.shape[0], -1) if w.ndim == 1 else w
        if w.shape != (obs.shape[0], self.num_experts):
            raise ValueError(f"w must have shape ({self.num_experts},) or (B, {self.num_experts})")
        if (w < 0).any() or not torch.allclose(w.sum(-1), torch.ones_like(w[:, 0]), atol=1e-4):
            raise ValueError("w must be a probability vector: non-negative, summing to 1")
        return w

    def weights(self, obs: Tensor, w: Tensor | None = None) -> Tensor:
        """w~ = alpha * w + (1 - alpha) * p(.|s), shape (B, K), sharpened by
        ``cfg.sharpness``; w may be None when alpha = 0."""
        alpha = self.cfg.alpha
        if alpha == 0.0 and self.weighting is None and w is None:
            fused = self.selection_probs(obs)
        else:
            sem = self.semantic_weights(obs, w)
            fused = sem if alpha == 1.0 else alpha * sem + (1 - alpha) * self.selection_probs(obs)
        if self.cfg.sharpness == 1.0:
            return fused
        sharp = fused.clamp_min(1e-12).pow(self.cfg.sharpness)
        return sharp / sharp.sum(-1, keepdim=True)

    def forward(self, obs: Tensor, expert_actions: Tensor, w: Tensor | None = None) -> Tensor:
        """a_ref (B, A) from observations (B, D) and the experts' actions (B, K, A)."""
        if expert_actions.shape[:2] != (obs.shape[0], self.num_experts):
            raise ValueError(
                f"expert_actions must have shape (B={obs.shape[0]}, K={self.num_experts}, A), "
                f"got {tuple(expert_actions.shape)}"
            )
        return torch.einsum("bk,bka->ba", self.weights(obs, w), expert_actions)


def expert_actions(experts: Sequence[Expert], obs: np.ndarray) -> np.ndarray:
    """Every expert's actions on a batch: (B, K, A) float32 for observations (B, D)."""
    return np.stack([e.act(obs) for e in experts], axis=1)


def fusion_loss(
    compositor: Compositor,
    obs: Tensor,
    actions: Tensor,
    q_fn: Callable[[Tensor, Tensor], Tensor],
    w: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Loss to minimise: -Q(s, a_ref) / mean|Q| - entropy_coef * H(p(.|s)).

    actions: expert actions (B, K, A); q_fn(obs, a) -> (B, 1) must be differentiable in a.
    """
    a_ref = compositor(obs, actions, w)
    q = q_fn(obs, a_ref)
    probs = compositor.selection_probs(obs)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean()
    scale = q.detach().abs().mean().clamp_min(1e-6)
    loss = -q.mean() / scale - compositor.cfg.entropy_coef * entropy
    return loss, {"skills/q": float(q.detach().mean()), "skills/entropy": float(entropy.detach())}


def world_model_q(
    model: nn.Module, generator: torch.Generator
) -> Callable[[Tensor, Tensor], Tensor]:
    """Q callable of a :class:`metaworld_hwm.physical.WorldModel`, frozen, averaged over 2 heads.

    Inputs move to the model's device and the values come back on the inputs' device.
    """

    def q_fn(obs: Tensor, action: Tensor) -> Tensor:
        device = next(model.parameters()).device
        with torch.no_grad():
            z = model.encode(obs.to(device))
        heads = model.random_heads(generator)
        return model.q_value(z, action.to(device), heads, detach=True).mean(0).to(obs.device)

    return q_fn


def reference_horizon(
    compositor: Compositor,
    experts: Sequence[Expert],
    obs: np.ndarray,
    horizon: int,
    w: np.ndarray | None = None,
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """a_ref for the planner's horizon, shape (horizon, A), from one observation (D,).

    Without ``predict`` the first a_ref is repeated: the experts read observations, and the
    TD-MPC2 latent has no decoder back to them, so the experts cannot be rolled along the
    world model's predicted latents; over the paper's H = 3 (60 ms) holding the reference is
    close. With ``predict(obs, action) -> next obs`` (e.g. a copy of the simulator), the
    experts and weights are re-evaluated along the predicted observations.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon}")
    refs, current = [], np.asarray(obs, dtype=np.float64)
    w_t = None if w is None else torch.as_tensor(w, dtype=torch.float32)
    for t in range(horizon):
        with torch.no_grad():
            obs_t = torch.as_tensor(current[None], dtype=torch.float32)
            acts = torch.as_tensor(expert_actions(experts, current[None]))
            refs.append(compositor(obs_t, acts, w_t)[0].numpy())
        if predict is None:
            return np.repeat(refs[0][None], horizon, axis=0)
        if t < horizon - 1:
            current = np.asarray(predict(current, refs[-1]), dtype=np.float64)
    return np.stack(refs)

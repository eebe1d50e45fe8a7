"""A thin TD-MPC2 agent: acts by expert-guided MPPI on the world model, learns from batches.

With `cfg.guidance_lambda = 0` and no `a_ref` this is the TD-MPC2 baseline. Every random draw
(weight init, planning noise, policy samples, head choice, dropout) comes from `seed`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from metaworld_hwm.physical.acting import ActingModel
from metaworld_hwm.physical.config import WorldModelConfig, with_current_names
from metaworld_hwm.physical.losses import (
    RunningScale,
    TDTargets,
    policy_loss,
    world_model_loss,
)
from metaworld_hwm.physical.math import two_hot_inv
from metaworld_hwm.physical.mppi import PlanningModel, plan_action
from metaworld_hwm.physical.world_model import WorldModel
from metaworld_hwm.utils.allocator import keep_freed_memory

__all__ = ["TDMPC2Agent", "default_device"]


def default_device() -> torch.device:
    """CUDA when available, otherwise CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _as_tensor(name: str, x: Any, device: torch.device) -> Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    x = x.to(device=device, dtype=torch.float32)
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


class TDMPC2Agent:
    """TD-MPC2 world model, its optimisers and planner state for one task.

    device: "cuda", "cpu", ... or None to pick CUDA when available.
    """

    def __init__(
        self, cfg: WorldModelConfig, seed: int = 0, device: str | torch.device | None = None
    ) -> None:
        self.cfg = cfg
        self.device = default_device() if device is None else torch.device(device)
        if self.device.type == "cpu":
            keep_freed_memory()
        init_seed, run_seed, learn_seed = np.random.SeedSequence(seed).generate_state(3)
        init_generator = torch.Generator().manual_seed(int(init_seed))
        self.model = WorldModel(cfg, init_generator).to(self.device)
        self.generator = torch.Generator(self.device).manual_seed(int(run_seed))
        """Draws of `act` (planning noise, policy samples, Q heads), and of `update` unless
        `separate_learn_generator` was called."""
        self.learn_generator = self.generator
        """Draws of `update` (policy samples, Q heads, dropout): `generator` itself by default."""
        self._learn_seed = int(learn_seed)
        self.scale = RunningScale(cfg.polyak_rate).to(self.device)
        m = self.model
        encoder_params = list(m.encoder.parameters())
        other_params = [
            p
            for part in (m.dynamics, m.reward_head, m.termination_head, m.q)
            if part is not None
            for p in part.parameters()
        ]
        self._wm_params = encoder_params + other_params
        fused = self.device.type in ("cpu", "cuda")  # one kernel per tensor: ~3x faster on CPU
        self.optim = torch.optim.Adam(
            [
                {"params": encoder_params, "lr": cfg.lr * cfg.enc_lr_scale},
                {"params": other_params},
            ],
            lr=cfg.lr,
            fused=fused,
        )
        self.pi_optim = torch.optim.Adam(m.policy.parameters(), lr=cfg.lr, eps=1e-5, fused=fused)
        self._live = ActingModel(self.model)
        self.acting = self._live
        """The weights `act` plans with: views of `model`, or while an `AsyncLearner` trains
        it, a snapshot taken after the previous update (see `acting.ActingModel`)."""
        self._learning = False  # an AsyncLearner's update is in flight
        self._prev_mean: Tensor | None = None
        self.last_plan_stats: dict[str, Tensor] = {}
        """Statistics (0-d tensors) of the latest `act` call, see `mppi.plan_action`."""

    def planning_model(self) -> PlanningModel:
        """The world model as the callables `mppi.plan_action` expects: the unfused reference of
        what `act` plans with (`self.acting.planning_model()`)."""
        m, cfg = self.model, self.cfg

        def reward(z: Tensor, a: Tensor) -> Tensor:
            return two_hot_inv(m.reward(z, a), cfg.vmin, cfg.vmax)

        def value(z: Tensor, a: Tensor, generator: torch.Generator) -> Tensor:
            return m.q_value(z, a, m.random_heads(generator)).mean(0)

        def policy(z: Tensor, generator: torch.Generator) -> Tensor:
            return m.pi(z, generator).action

        def termination(z: Tensor) -> Tensor:
            return torch.sigmoid(m.termination(z))

        return PlanningModel(m.next, reward, value, policy, termination if cfg.episodic else None)

    @torch.no_grad()
    def act(
        self,
        obs: np.ndarray | Tensor,
        t0: bool = False,
        eval_mode: bool = False,
        a_ref: np.ndarray | Tensor | None = None,
    ) -> np.ndarray:
        """Plan an action (action_dim,) float32 in [-1, 1] for observation (obs_dim,).

        t0: first step of an episode (no warm start from the previous plan).
        eval_mode: no exploration noise.
        a_ref: expert reference actions, (horizon, action_dim) or (action_dim,) held over the
            horizon; guides MPPI with weight `cfg.guidance_lambda`.
        """
        cfg = self.cfg
        obs_t = _as_tensor("obs", obs, self.device)
        if obs_t.shape != (cfg.obs_dim,):
            raise ValueError(f"obs must have shape ({cfg.obs_dim},), got {tuple(obs_t.shape)}")
        ref = None
        if a_ref is not None:
            ref = _as_tensor("a_ref", a_ref, self.device)
            if ref.shape == (cfg.action_dim,):
                ref = ref.expand(cfg.horizon, -1)
            if ref.shape != (cfg.horizon, cfg.action_dim):
                raise ValueError(
                    f"a_ref must have shape ({cfg.horizon}, {cfg.action_dim}) or "
                    f"({cfg.action_dim},), got {tuple(ref.shape)}"
                )
        acting = self.acting
        z = acting.encode(obs_t.unsqueeze(0)).squeeze(0)
        action, self._prev_mean, self.last_plan_stats = plan_action(
            acting.planning_model(),
            z,
            cfg,
            self.generator,
            prev_mean=None if t0 else self._prev_mean,
            a_ref=ref,
            guidance_lambda=cfg.guidance_lambda,
            eval_mode=eval_mode,
            guidance_radius=cfg.guidance_radius,
        )
        out = action.cpu().numpy()
        if not np.isfinite(out).all():
            raise FloatingPointError(
                "planned action is not finite: the world model has diverged (inspect the losses)"
            )
        return out

    def _check_batch(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """The batch on this agent's device as float32, after checking keys and shapes."""
        cfg, H = self.cfg, self.cfg.horizon
        if "obs" not in batch or getattr(batch["obs"], "ndim", None) != 3:
            raise ValueError("batch['obs'] must be a tensor of shape (horizon + 1, B, obs_dim)")
        B = batch["obs"].shape[1]
        shapes = {
            "obs": (H + 1, B, cfg.obs_dim),
            "action": (H, B, cfg.action_dim),
            "reward": (H, B, 1),
            "terminated": (H, B, 1),
            "a_ref": (H, B, cfg.action_dim),
        }
        unknown = set(batch) - set(shapes)
        if unknown:
            raise ValueError(f"unknown batch keys {sorted(unknown)}; accepted: {sorted(shapes)}")
        out = {}
        for key, shape in shapes.items():
            if batch.get(key) is None:
                if key == "a_ref":
                    continue
                raise ValueError(f"batch is missing {key!r} of shape {shape}")
            out[key] = _as_tensor(f"batch[{key!r}]", batch[key], self.device)
            if tuple(out[key].shape) != shape:
                raise ValueError(
                    f"batch[{key!r}] must have shape {shape} (horizon={H}), "
                    f"got {tuple(out[key].shape)}"
                )
        return out

    def separate_learn_generator(self) -> None:
        """Give `update` its own generator (seeded from this agent's seed) instead of sharing
        `generator` with `act`, so that learning can run on another thread
        (`AsyncLearner` calls this). It changes which random numbers each draws, not their
        distribution; checkpoints record the choice."""
        if self.learn_generator is self.generator:
            self.learn_generator = torch.Generator(self.device).manual_seed(self._learn_seed)

    def _check_idle(self, what: str) -> None:
        if self._learning:
            raise RuntimeError(f"{what} while an AsyncLearner update is running; wait() first")

    def update(self, batch: dict[str, Tensor]) -> dict[str, float]:
        """One gradient step of the world model and one of the policy prior on a batch:
        obs (H+1, B, obs_dim), action (H, B, A), reward (H, B, 1), terminated (H, B, 1), and
        optionally a_ref (H, B, A). Returns the losses and gradient norms as floats."""
        self._check_idle("update()")
        metrics = self._update_checked(self._check_batch(batch))
        self._use_live()
        return metrics

    def _use_live(self) -> None:
        """Plan with views of the live model again (its int8 weights re-quantised)."""
        self._live.refresh()
        self.acting = self._live

    def _update_checked(
        self,
        data: dict[str, Tensor],
        targets: TDTargets | Callable[[], TDTargets] | None = None,
    ) -> dict[str, float]:
        """`update` on a batch that `_check_batch` has accepted (thread-safe against `act`
        once `acting` is a snapshot); `targets` as in `losses.world_model_loss`."""
        generator = self.learn_generator
        wm = world_model_loss(self.model, data, generator, targets)
        self.optim.zero_grad(set_to_none=True)
        wm.total.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(self._wm_params, self.cfg.grad_clip_norm)
        self.optim.step()

        pi = policy_loss(self.model, wm.zs.detach(), self.scale, generator, data.get("a_ref"))
        self.pi_optim.zero_grad(set_to_none=True)
        pi.total.backward()
        pi_grad_norm = torch.nn.utils.clip_grad_norm_(
            self.model.policy.parameters(), self.cfg.grad_clip_norm
        )
        self.pi_optim.step()
        self.model.soft_update_target()

        metrics = {f"{k}_loss": v for k, v in wm.terms.items()}
        metrics.update({f"pi_{k}": v for k, v in pi.terms.items()})
        metrics.update(
            world_model_loss=wm.total,
            pi_loss=pi.total,
            pi_scale=self.scale.value,
            grad_norm=grad_norm,
            pi_grad_norm=pi_grad_norm,
        )
        values = torch.stack([v.detach().float().reshape(()) for v in metrics.values()]).tolist()
        return dict(zip(metrics, values, strict=True))

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimisers, Q scale, RNG, planner warm start
        and the config."""
        self._check_idle("state_dict()")
        return {
            "config": self.cfg.to_dict(),
            "model": self.model.state_dict(),
            "optim": self.optim.state_dict(),
            "pi_optim": self.pi_optim.state_dict(),
            "scale": self.scale.state_dict(),
            "rng": {"device": self.device.type, "state": self.generator.get_state()},
            "learn_rng": (
                None if self.learn_generator is self.generator else self.learn_generator.get_state()
            ),
            "prev_mean": self._prev_mean,
        }

    def load_state_dict(self, state: dict[str, Any], restore_rng: bool = True) -> None:
        """Restore a `state_dict`. The config must match this agent's; the RNG state can only
        be restored on the same device type (pass restore_rng=False to keep this agent's)."""
        self._check_idle("load_state_dict()")
        saved, current = with_current_names(state["config"]), self.cfg.to_dict()
        diff = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
        if diff:
            raise ValueError(f"state was saved with a different config; differing fields: {diff}")
        rng = state["rng"]
        if restore_rng and rng["device"] != self.device.type:
            raise ValueError(
                f"RNG state was saved on {rng['device']!r} and cannot be restored on "
                f"{self.device.type!r}; pass restore_rng=False to keep this agent's RNG"
            )
        self.model.load_state_dict(state["model"])
        self.optim.load_state_dict(state["optim"])
        self.pi_optim.load_state_dict(state["pi_optim"])
        self.scale.load_state_dict(state["scale"])
        if restore_rng:
            self.generator.set_state(rng["state"].cpu())
            if state.get("learn_rng") is None:  # update shared act's generator
                self.learn_generator = self.generator
            else:
                self.separate_learn_generator()
                self.learn_generator.set_state(state["learn_rng"].cpu())
        self._use_live()
        prev = state["prev_mean"]
        self._prev_mean = None if prev is None else prev.to(self.device)

"""What planning needs of a `WorldModel`, as plain tensors with a fused forward pass.

`ActingModel` holds the encoder, dynamics, reward, termination, policy and online Q weights,
either as views of the live model (they follow its in-place updates) or as a copy (a snapshot
that planning can use while another thread trains the model). Its forward pass computes the
same functions as `WorldModel`, with less work:

- every hidden layer's LayerNorm, affine and Mish run as one fused kernel (`kernels.ln_mish`),
  the latent layers' LayerNorm and SimNorm as another;
- at the first planning step all candidates share z0, so the z0 part of the first layer of
  the dynamics and reward heads is computed once per call (the rest is a small matmul over
  the actions);
- the [z, a] concatenation is shared by the dynamics and reward heads.

Results equal the unfused `WorldModel` to float32 rounding (tested).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.functional import linear

from metaworld_hwm.physical.kernels import ln_mish, ln_simnorm
from metaworld_hwm.physical.layers import NormedLinear
from metaworld_hwm.physical.math import two_hot_inv
from metaworld_hwm.physical.mppi import PlanningModel, Rollout
from metaworld_hwm.physical.world_model import WorldModel, policy_sample

__all__ = ["ActingModel"]


class _Layer(NamedTuple):
    weight: Tensor
    """(out, in), as in `nn.Linear`."""
    bias: Tensor
    norm_weight: Tensor | None
    """LayerNorm affine of a `NormedLinear`; None for a plain output layer."""
    norm_bias: Tensor | None


def _take(p: Tensor, copy: bool) -> Tensor:
    return p.detach().clone() if copy else p.detach()


def _layers(seq: nn.Sequential, copy: bool) -> list[_Layer]:
    out = []
    for layer in seq:
        if isinstance(layer, NormedLinear):
            lin, norm = layer.linear, layer.norm
            params = (lin.weight, lin.bias, norm.weight, norm.bias)
            out.append(_Layer(*(_take(p, copy) for p in params)))
        elif isinstance(layer, nn.Linear):
            out.append(_Layer(_take(layer.weight, copy), _take(layer.bias, copy), None, None))
        else:
            raise TypeError(f"unexpected layer {type(layer).__name__} in a world-model MLP")
    return out


class ActingModel:
    """Frozen planning weights of a `WorldModel` and the fused functions MPPI calls.

    copy: False to view the live parameters (valid while nobody trains the model
    concurrently), True for an independent snapshot.
    """

    def __init__(self, model: WorldModel, copy: bool = False) -> None:
        cfg = self.cfg = model.cfg
        self.encoder = _layers(model.encoder, copy)
        self.dynamics = _layers(model.dynamics, copy)
        self.reward_head = _layers(model.reward_head, copy)
        head = model.termination_head
        self.termination_head = None if head is None else _layers(head, copy)
        self.policy = _layers(model.policy, copy)
        q = model.q
        self.q_weights = [_take(p, copy) for p in q.weights]
        self.q_biases = [_take(p, copy) for p in q.biases]
        self.q_norm_weights = [_take(p, copy) for p in q.norm_weights]
        self.q_norm_biases = [_take(p, copy) for p in q.norm_biases]
        self._simnorm_dim = cfg.simnorm_dim

    # ------------------------------------------------------------------ MLPs
    def _mlp(self, layers: list[_Layer], x: Tensor) -> Tensor:
        first = layers[0]
        if first.norm_weight is None:
            return linear(x, first.weight, first.bias)
        return self._from_pre(layers, torch.mm(x, first.weight.t()), first.bias)

    def _from_pre(self, layers: list[_Layer], h: Tensor, bias: Tensor | None = None) -> Tensor:
        """The rest of an MLP from its first layer's pre-activation h (without its bias when
        `bias` is given: the kernel adds it)."""
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            if i > 0:
                if layer.norm_weight is None:
                    return torch.addmm(layer.bias, h, layer.weight.t())  # plain output layer
                h, bias = torch.mm(h, layer.weight.t()), layer.bias
            assert layer.norm_weight is not None and layer.norm_bias is not None
            if i < last:
                h = ln_mish(h, layer.norm_weight, layer.norm_bias, bias, inplace=True)
            else:
                norm = (layer.norm_weight, layer.norm_bias, self._simnorm_dim, bias)
                h = ln_simnorm(h, *norm, inplace=True)
            bias = None
        return h

    def encode(self, obs: Tensor) -> Tensor:
        """Latent states (N, L) of observations (N, obs_dim)."""
        return self._mlp(self.encoder, obs)

    def next(self, z: Tensor, a: Tensor) -> Tensor:
        return self._mlp(self.dynamics, torch.cat([z, a], dim=-1))

    def reward(self, z: Tensor, a: Tensor) -> Tensor:
        """Decoded rewards (N, 1)."""
        return self._decode(self._mlp(self.reward_head, torch.cat([z, a], dim=-1)))

    def termination(self, z: Tensor) -> Tensor:
        """Probabilities (N, 1) that the episode has ended on arriving in z."""
        if self.termination_head is None:
            raise RuntimeError("termination() needs a model built with episodic=True")
        return torch.sigmoid(self._mlp(self.termination_head, z))

    def pi_action(self, z: Tensor, generator: torch.Generator) -> Tensor:
        """An action sampled from the policy prior, as `WorldModel.pi(z, generator).action`."""
        return policy_sample(self._mlp(self.policy, z), self.cfg, generator).action

    def value(self, z: Tensor, a: Tensor, generator: torch.Generator) -> Tensor:
        """Mean decoded Q (N, 1) of two random online heads, as the agent's planning value."""
        heads = torch.randperm(self.cfg.num_q, generator=generator, device=generator.device)[:2]
        h = torch.cat([z, a], dim=-1).unsqueeze(0)
        last = len(self.q_weights) - 1
        for i in range(last + 1):
            weight = self.q_weights[i].index_select(0, heads)
            bias = self.q_biases[i].index_select(0, heads)
            if i == last:
                h = torch.baddbmm(bias, h, weight)
                break
            h = torch.bmm(h.expand(weight.shape[0], -1, -1), weight)
            norm_w = self.q_norm_weights[i].index_select(0, heads)
            norm_b = self.q_norm_biases[i].index_select(0, heads)
            h = ln_mish(h, norm_w, norm_b, bias, inplace=True)
        return self._decode(h).mean(0)

    def _decode(self, logits: Tensor) -> Tensor:
        return two_hot_inv(logits, self.cfg.vmin, self.cfg.vmax)

    # ------------------------------------------------------------------ planning
    def rollout(self, z0: Tensor, actions: Tensor, discount: float) -> Rollout:
        """`mppi.rollout` of actions (H, N, A) from z0 (L,), fused (see the module doc)."""
        horizon, num = actions.shape[:2]
        latent = self.cfg.latent_dim
        heads = (self.dynamics, self.reward_head)
        # Step 0: the z0 part of both first layers once, then only the actions' part.
        shared = [linear(z0, h[0].weight[:, :latent], h[0].bias) for h in heads]
        pre = [torch.addmm(c, actions[0], h[0].weight[:, latent:].t()) for c, h in zip(
            shared, heads, strict=True)]  # fmt: skip
        ret = torch.zeros(num, 1, dtype=z0.dtype, device=z0.device)
        alive = torch.ones_like(ret)
        weight = 1.0
        z = z0
        for t in range(horizon):
            biases: list[Tensor | None] = [None, None]  # step 0: in `shared`
            if t > 0:
                za = torch.cat([z, actions[t]], dim=-1)
                pre = [torch.mm(za, h[0].weight.t()) for h in heads]
                biases = [h[0].bias for h in heads]
            reward = self._decode(self._from_pre(self.reward_head, pre[1], biases[1]))
            ret = ret + weight * alive * reward
            z = self._from_pre(self.dynamics, pre[0], biases[0])
            if self.termination_head is not None:
                alive = alive * (self.termination(z) <= 0.5).to(z.dtype)
            weight *= discount
        return Rollout(ret, alive, z, weight)

    def planning_model(self) -> PlanningModel:
        """The callables `mppi.plan` expects, with the fused rollout."""
        term = self.termination if self.termination_head is not None else None
        return PlanningModel(
            self.next, self.reward, self.value, self.pi_action, term, rollout=self.rollout
        )

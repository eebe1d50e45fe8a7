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

Results equal the unfused `WorldModel` to float32 rounding (tested). With ``int8=True`` the
matmuls of the dynamics, reward, termination, policy and Q heads run in int8 (`int8.py`; the
encoder, which sees one row per call, stays float32); a view model's int8 weights are copies,
so whoever changes the model calls `refresh` (`TDMPC2Agent` does after each update and load;
the optimisers' fused kernels change parameters without bumping their version counters, so
a change cannot be detected from the tensors).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn
from torch.nn.functional import linear

from metaworld_hwm.physical.int8 import Int8Weight, int8_matmul, quantize_weight
from metaworld_hwm.physical.kernels import (
    dq_ln_mish_q,
    ln_mish,
    ln_simnorm,
    quantize_rows,
)
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
    int8: Int8Weight | None = None
    """The weight quantised for `int8_matmul`, when this layer's matmul runs in int8."""


def _take(p: Tensor, copy: bool) -> Tensor:
    return p.detach().clone() if copy else p.detach()


def _layers(seq: nn.Sequential, copy: bool, int8: bool = False) -> list[_Layer]:
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
    if int8:
        out = [lay._replace(int8=quantize_weight(lay.weight.t())) for lay in out]
    return out


class ActingModel:
    """Frozen planning weights of a `WorldModel` and the fused functions MPPI calls.

    copy: False to view the live parameters (valid while nobody trains the model
    concurrently), True for an independent snapshot.
    int8: run the planning heads' matmuls in int8 (default: ``model.cfg.planning_int8``).
    """

    def __init__(self, model: WorldModel, copy: bool = False, int8: bool | None = None) -> None:
        cfg = self.cfg = model.cfg
        self.int8 = cfg.planning_int8 if int8 is None else int8
        if self.int8 and next(model.parameters()).device.type != "cpu":
            raise ValueError(
                "planning_int8 is a CPU option (int8 matmuls through VNNI); on a GPU plan in "
                "float32: leave planning_int8 off"
            )
        self._model, self._copy = model, copy
        self.encoder = _layers(model.encoder, copy)
        q = model.q
        self.q_biases = [_take(p, copy) for p in q.biases]
        self.q_norm_weights = [_take(p, copy) for p in q.norm_weights]
        self.q_norm_biases = [_take(p, copy) for p in q.norm_biases]
        self._simnorm_dim = cfg.simnorm_dim
        self._take_planning_heads()

    def _take_planning_heads(self) -> None:
        model, copy, int8 = self._model, self._copy, self.int8
        self.dynamics = _layers(model.dynamics, copy, int8)
        self.reward_head = _layers(model.reward_head, copy, int8)
        self.policy = _layers(model.policy, copy, int8)
        head = model.termination_head
        self.termination_head = None if head is None else _layers(head, copy, int8)
        self.q_weights = [_take(p, copy) for p in model.q.weights]
        self.q_int8 = [self._q_head_int8(k) for k in range(self.cfg.num_q)] if int8 else None
        """Per Q head, its layers with int8 weights (int8 planning only)."""

    def _q_head_int8(self, k: int) -> list[_Layer]:
        last = len(self.q_weights) - 1
        return [
            _Layer(
                weight=w[k].t(), bias=self.q_biases[i][k].reshape(-1),
                norm_weight=None if i == last else self.q_norm_weights[i][k].reshape(-1),
                norm_bias=None if i == last else self.q_norm_biases[i][k].reshape(-1),
                int8=quantize_weight(w[k]),
            )
            for i, w in enumerate(self.q_weights)
        ]  # fmt: skip

    def refresh(self) -> None:
        """Re-quantise the int8 weights of a view model after its model changed (the agent
        calls this after each update and load; float32 views need nothing)."""
        if self.int8 and not self._copy:
            self._take_planning_heads()

    # ------------------------------------------------------------------ MLPs
    def _mlp(self, layers: list[_Layer], x: Tensor) -> Tensor:
        first = layers[0]
        if first.int8 is not None:
            return self._int8_chain(layers, *quantize_rows(x))
        if first.norm_weight is None:
            return linear(x, first.weight, first.bias)
        return self._from_pre(layers, torch.mm(x, first.weight.t()), first.bias)

    def _from_pre(self, layers: list[_Layer], h: Tensor, bias: Tensor | None = None) -> Tensor:
        """The rest of an MLP from its first layer's pre-activation h (without its bias when
        `bias` is given: the kernel adds it)."""
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            if i > 0:
                if layer.int8 is not None:
                    return self._int8_chain(layers[i:], *quantize_rows(h))
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

    def _int8_chain(self, layers: list[_Layer], q: Tensor, scale: Tensor) -> Tensor:
        """An MLP of int8 layers from its quantised input (q, scale): each hidden layer's tail
        is fused with the next layer's quantisation; the output is float32."""
        last = len(layers) - 1
        for i, layer in enumerate(layers):
            assert layer.int8 is not None
            norm = (layer.norm_weight, layer.norm_bias)
            if i < last:
                assert norm[0] is not None and norm[1] is not None
                acc = torch._int_mm(q, layer.int8.weight)
                q, scale = dq_ln_mish_q(acc, scale, layer.int8.scale, layer.bias, *norm)
                continue
            h = int8_matmul(q, scale, layer.int8)
            if norm[0] is None or norm[1] is None:
                return h.add_(layer.bias)  # plain output layer
            return ln_simnorm(h, *norm, self._simnorm_dim, layer.bias, inplace=True)
        raise ValueError("an MLP needs at least one layer")

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
        if self.q_int8 is not None:
            q = quantize_rows(torch.cat([z, a], dim=-1))
            logits = [self._int8_chain(self.q_int8[k], *q) for k in heads.tolist()]
            return self._decode(torch.stack(logits)).mean(0)
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
        ret = torch.zeros(num, 1, dtype=z0.dtype, device=z0.device)
        alive = torch.ones_like(ret)
        weight = 1.0
        z = z0
        for t in range(horizon):
            if t == 0:  # all candidates share z0: its part of both first layers once
                outs = [
                    self._from_pre(h, torch.addmm(
                        linear(z0, h[0].weight[:, :latent], h[0].bias), actions[0],
                        h[0].weight[:, latent:].t()))
                    for h in heads
                ]  # fmt: skip
            else:
                outs = self._heads(heads, torch.cat([z, actions[t]], dim=-1))
            z = outs[0]
            ret = ret + weight * alive * self._decode(outs[1])
            if self.termination_head is not None:
                alive = alive * (self.termination(z) <= 0.5).to(z.dtype)
            weight *= discount
        return Rollout(ret, alive, z, weight)

    def _heads(self, heads: tuple[list[_Layer], ...], x: Tensor) -> list[Tensor]:
        """Several MLPs on the same input (quantised once in int8)."""
        if heads[0][0].int8 is not None:
            q = quantize_rows(x)
            return [self._int8_chain(h, *q) for h in heads]
        return [self._from_pre(h, torch.mm(x, h[0].weight.t()), h[0].bias) for h in heads]

    def planning_model(self) -> PlanningModel:
        """The callables `mppi.plan_action` expects, with the fused rollout."""
        term = self.termination if self.termination_head is not None else None
        return PlanningModel(
            self.next, self.reward, self.value, self.pi_action, term, rollout=self.rollout
        )

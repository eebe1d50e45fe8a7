"""Ensemble of Q-function MLPs with stacked parameters, evaluated as one batched matmul.

Each layer keeps the weights of all heads in one tensor of shape (num_heads, in, out), so the
ensemble (or any subset of its heads) runs as `baddbmm` calls instead of a Python loop over
heads. Planning and TD targets evaluate only the two heads they sample, which saves
(num_q - 2) / num_q of the Q work.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn
from torch.nn.functional import layer_norm

from metaworld_hwm.physical.layers import init_weight_
from metaworld_hwm.physical.math import mish

__all__ = ["QEnsemble"]


class QEnsemble(nn.Module):
    """`num_heads` MLPs in -> hidden... -> out, each hidden layer Linear -> (Dropout on the
    first layer) -> LayerNorm -> Mish; the output layer starts at zero."""

    def __init__(
        self,
        num_heads: int,
        in_dim: int,
        hidden_dims: list[int],
        out_dim: int,
        dropout: float,
        generator: torch.Generator | None,
    ) -> None:
        super().__init__()
        if not hidden_dims:
            raise ValueError("QEnsemble needs at least one hidden layer")
        self.num_heads = num_heads
        self.dropout = dropout
        dims = [in_dim, *hidden_dims, out_dim]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for d_in, d_out in itertools.pairwise(dims):
            weight = torch.empty(num_heads, d_in, d_out)
            self.weights.append(nn.Parameter(init_weight_(weight, generator)))
            self.biases.append(nn.Parameter(torch.zeros(num_heads, 1, d_out)))
        with torch.no_grad():
            self.weights[-1].zero_()
        self.norm_weights = nn.ParameterList(
            nn.Parameter(torch.ones(num_heads, 1, d)) for d in hidden_dims
        )
        self.norm_biases = nn.ParameterList(
            nn.Parameter(torch.zeros(num_heads, 1, d)) for d in hidden_dims
        )

    def forward(
        self,
        x: Tensor,
        heads: Tensor | None = None,
        *,
        detach: bool = False,
        dropout_generator: torch.Generator | None = None,
    ) -> Tensor:
        """Outputs of shape (k, *x.shape[:-1], out_dim) for the k selected heads.

        heads: indices (k,) of the heads to evaluate, or None for all of them, in order.
        detach: use the parameters without gradient (the frozen copy the policy loss needs).
        dropout_generator: apply dropout on the first layer, drawing the mask from it; no
            dropout when None (targets, planning, the policy loss).
        """
        batch_shape = x.shape[:-1]
        h = x.reshape(1, -1, x.shape[-1])
        num_layers = len(self.weights)
        for i in range(num_layers):
            weight = self._select(self.weights[i], heads, detach)
            bias = self._select(self.biases[i], heads, detach)
            h = torch.baddbmm(bias, h.expand(weight.shape[0], -1, -1), weight)
            if i == num_layers - 1:
                break
            if i == 0 and dropout_generator is not None and self.dropout > 0:
                uniform = torch.rand(h.shape, generator=dropout_generator, device=h.device)
                h = h * (uniform >= self.dropout) / (1 - self.dropout)
            h = layer_norm(h, h.shape[-1:])
            h = h * self._select(self.norm_weights[i], heads, detach)
            h = mish(h + self._select(self.norm_biases[i], heads, detach))
        return h.reshape(h.shape[0], *batch_shape, h.shape[-1])

    @staticmethod
    def _select(param: Tensor, heads: Tensor | None, detach: bool) -> Tensor:
        param = param.detach() if detach else param
        return param if heads is None else param.index_select(0, heads)

    @torch.no_grad()
    def lerp_from(self, source: QEnsemble, tau: float) -> None:
        """Polyak averaging: every parameter p <- p + tau * (source.p - p)."""
        for target, online in zip(self.parameters(), source.parameters(), strict=True):
            target.lerp_(online, tau)

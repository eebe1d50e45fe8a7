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

from metaworld_hwm.physical.kernels import linear_norm_mish
from metaworld_hwm.physical.layers import init_weight_

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
        const: Tensor | None = None,
    ) -> Tensor:
        """Outputs of shape (k, *x.shape[:-1], out_dim) for the k selected heads.

        heads: indices (k,) of the heads to evaluate, or None for all of them, in order.
        detach: use the parameters without gradient (the frozen copy the policy loss needs).
        dropout_generator: apply dropout on the first layer, drawing the mask from it; no
            dropout when None (targets, planning, the policy loss).
        const: with detach, leading input features (..., c) that need no gradient (the
            latent in the policy loss); x then holds the rest (the action). Their part of the
            first layer runs outside autograd, which skips its input-gradient matmul.
        """
        if const is not None and not detach:
            raise ValueError("QEnsemble: const inputs need detach=True (no parameter gradient)")
        batch_shape = x.shape[:-1]
        h = x.reshape(1, -1, x.shape[-1])
        num_layers = len(self.weights)
        for i in range(num_layers):
            weight = self._select(self.weights[i], heads, detach)
            bias = self._select(self.biases[i], heads, detach)
            h = h.expand(weight.shape[0], -1, -1)
            if i == num_layers - 1:
                h = torch.baddbmm(bias, h, weight)
                break
            if i == 0 and const is not None:
                c = const.reshape(1, -1, const.shape[-1]).expand(weight.shape[0], -1, -1)
                with torch.no_grad():
                    pre = torch.bmm(c, weight[:, : c.shape[-1]])
                pre = torch.baddbmm(pre, h, weight[:, c.shape[-1] :])
            else:
                pre = torch.bmm(h, weight)
            scale = None
            if i == 0 and dropout_generator is not None and self.dropout > 0:
                uniform = torch.rand(
                    h.shape[:2] + weight.shape[-1:], generator=dropout_generator, device=h.device
                )
                scale = (uniform >= self.dropout).to(h.dtype).div_(1 - self.dropout)
            h = linear_norm_mish(
                pre,
                bias,
                self._select(self.norm_weights[i], heads, detach),
                self._select(self.norm_biases[i], heads, detach),
                scale,
            )
        return h.reshape(h.shape[0], *batch_shape, h.shape[-1])

    @staticmethod
    def _select(param: Tensor, heads: Tensor | None, detach: bool) -> Tensor:
        param = param.detach() if detach else param
        return param if heads is None else param.index_select(0, heads)

    @torch.no_grad()
    def lerp_from(self, source: QEnsemble, rate: float) -> None:
        """Polyak averaging: every parameter p <- p + rate * (source.p - p)."""
        targets, onlines = list(self.parameters()), list(source.parameters())
        if len(targets) != len(onlines):
            raise ValueError("lerp_from needs an ensemble of the same structure")
        torch._foreach_lerp_(targets, onlines, rate)

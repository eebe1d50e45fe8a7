"""Building blocks of the world model: normalised linear layers, MLPs and their initialisation.

Every hidden layer is Linear -> LayerNorm -> Mish. Weights start from a truncated normal of
std 0.02 drawn from an explicit `torch.Generator` (never the global RNG); biases start at zero.
Dropout appears only in the Q ensemble (`q_ensemble.py`), which applies it with its own
generator, so it is not part of these layers.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn

from metaworld_hwm.physical.kernels import linear_norm_mish
from metaworld_hwm.physical.math import Mish

__all__ = ["INIT_STD", "NormedLinear", "init_weight_", "linear", "mlp"]

INIT_STD = 0.02


def init_weight_(weight: Tensor, generator: torch.Generator | None) -> Tensor:
    """Fill `weight` in place from N(0, 0.02^2) truncated at two standard deviations."""
    with torch.no_grad():
        return nn.init.trunc_normal_(
            weight, std=INIT_STD, a=-2 * INIT_STD, b=2 * INIT_STD, generator=generator
        )


def linear(in_dim: int, out_dim: int, generator: torch.Generator | None) -> nn.Linear:
    """An `nn.Linear` initialised from `generator` (its default init, which draws from the
    global RNG, is skipped)."""
    layer = nn.utils.skip_init(nn.Linear, in_dim, out_dim)
    init_weight_(layer.weight, generator)
    with torch.no_grad():
        layer.bias.zero_()
    return layer


class NormedLinear(nn.Module):
    """Linear -> LayerNorm -> activation (Mish unless another module is given)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        generator: torch.Generator | None,
        act: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.linear = linear(in_dim, out_dim, generator)
        self.norm = nn.LayerNorm(out_dim)
        self.act = Mish() if act is None else act

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(self.act, Mish):  # bias, LayerNorm and Mish in one fused kernel
            h = torch.matmul(x, self.linear.weight.t())
            norm = self.norm
            return linear_norm_mish(h, self.linear.bias, norm.weight, norm.bias, eps=norm.eps)
        return self.act(self.norm(self.linear(x)))


def mlp(
    in_dim: int,
    hidden_dims: list[int],
    out_dim: int,
    generator: torch.Generator | None,
    final_act: nn.Module | None = None,
) -> nn.Sequential:
    """MLP of `NormedLinear` hidden layers.

    The output layer is a plain Linear when `final_act` is None (logits, means), otherwise a
    `NormedLinear` ending in `final_act` (e.g. SimNorm for latent states).
    """
    dims = [in_dim, *hidden_dims]
    layers: list[nn.Module] = [
        NormedLinear(d_in, d_out, generator) for d_in, d_out in itertools.pairwise(dims)
    ]
    if final_act is None:
        layers.append(linear(dims[-1], out_dim, generator))
    else:
        layers.append(NormedLinear(dims[-1], out_dim, generator, act=final_act))
    return nn.Sequential(*layers)

"""Int8 matmuls for planning (opt-in, ``WorldModelConfig.planning_int8``; CPU only).

MPPI spends most of a planning call in the matmuls of the dynamics, reward, termination and
Q heads over 512 candidates. With ``planning_int8`` those run as int8 x int8 -> int32 products
(``torch._int_mm``, VNNI on x86; 3-4x the float32 GEMM rate at these shapes on the 2-core
machine class): weights are quantised symmetrically per output channel when the acting
weights are taken, activations per row on the fly, and the int32 product is scaled back to
float32 before the layer's bias, LayerNorm and activation, which stay in float32.

This changes the planner's numbers (relative error of a layer's output ~1 %, measured on
random (512, K) x (K, N) products), not its
algorithm: it is a flag, default off. Learning itself (`TDMPC2Agent.update`) is always float32.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from metaworld_hwm.physical.kernels import dequantize_rows, quantize_cols, quantize_rows

__all__ = ["Int8Weight", "int8_matmul", "quantize_weight"]


class Int8Weight(NamedTuple):
    """A weight matrix quantised per output column: ``w ~ weight * scale``."""

    weight: Tensor
    """(in, out) int8: row-major, or the transpose of a row-major (out, in) matrix."""
    scale: Tensor
    """(out,) float32."""


def quantize_weight(weight: Tensor) -> Int8Weight:
    """Quantise a float weight (in, out) symmetrically per output column, without copying
    it: the transpose of an `nn.Linear` weight (a view of a row-major (out, in) matrix) is
    quantised row by row and kept transposed (`torch._int_mm` reads either layout equally
    fast, measured), a row-major (in, out) matrix (the Q ensemble's) column by column."""
    weight = weight.detach()
    if weight.t().is_contiguous():
        q, scale = quantize_rows(weight.t())
        return Int8Weight(q.t(), scale)
    q, scale = quantize_cols(weight)
    return Int8Weight(q, scale)


def int8_matmul(q: Tensor, scale: Tensor, w: Int8Weight) -> Tensor:
    """``x @ w`` (N, out) in float32 for x given quantised per row, ``x ~ q * scale[:, None]``
    (`kernels.quantize_rows`), through an int8 product."""
    return dequantize_rows(torch._int_mm(q, w.weight), scale, w.scale)

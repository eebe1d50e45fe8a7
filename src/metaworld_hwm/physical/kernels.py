"""Fused CPU kernels for the elementwise tails of the world model's layers.

On CPU about 40% of a planning call and of an update went to the ops after each matmul:
LayerNorm, its affine, Mish (softplus, tanh, mul: one pass each, two of them transcendental)
and SimNorm. These kernels do each tail in one pass, with Mish from a single ``exp``
(``tanh(softplus(h)) = q / (q + 2)``, ``q = e^h (e^h + 2)``): ``ln_mish`` is ~5x faster than
torch's LayerNorm + Mish on a (536, 384) block on this machine class.

They are plain C, compiled once per machine with the system C compiler (``$CC`` or ``cc``)
into a cache directory and loaded with ctypes, which releases the GIL while they run. The
results equal the torch ops to float32 rounding (tested). Where there is no compiler, on
non-CPU tensors, or with ``METAWORLD_HWM_KERNELS=0``, the same functions run the torch ops;
a failed build warns once, naming the reason.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import torch
from torch import Tensor
from torch.nn.functional import layer_norm

from metaworld_hwm.physical._csrc import SOURCE
from metaworld_hwm.physical.math import mish, simnorm

__all__ = [
    "dequantize_rows",
    "dq_ln_mish_q",
    "enabled",
    "linear_norm_mish",
    "ln_mish",
    "ln_simnorm",
    "quantize_cols",
    "quantize_rows",
    "set_enabled",
]

_ENV = "METAWORLD_HWM_KERNELS"
_ISA_FLAGS = {
    "AVX512": ["-mavx512f", "-mavx512dq", "-mavx512vl", "-mavx512bw", "-mavx2", "-mfma"],
    "AVX2": ["-mavx2", "-mfma"],
}
_BASE_FLAGS = ["-O3", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared"]
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_tried = False
_off = False  # set_enabled(False)

_I64, _F32, _PTR = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
_SIGNATURES = {
    "ln_mish_fwd": [_PTR] * 4 + [_I64, _I64, _I64, _F32],
    "ln_simnorm_fwd": [_PTR] * 4 + [_I64, _I64, _I64, _F32],
    "ln_mish_train_fwd": [_PTR] * 8 + [_I64, _I64, _I64, _F32],
    "ln_mish_train_bwd": [_PTR] * 12 + [_I64, _I64, _I64],
    "quantize_rows_s8": [_PTR] * 3 + [_I64, _I64],
    "quantize_cols_s8": [_PTR] * 3 + [_I64, _I64],
    "dequantize_rows": [_PTR] * 4 + [_I64, _I64],
    "dq_ln_mish_q": [_PTR] * 8 + [_I64, _I64, _F32],
}
_RETURNS_INT = ("dq_ln_mish_q",)


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    path = Path(root) / "metaworld_hwm" / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: a per-user temporary directory
        path = Path(tempfile.gettempdir()) / f"metaworld_hwm_kernels_{os.getuid()}"
        path.mkdir(parents=True, exist_ok=True)
    return path


def _build() -> ctypes.CDLL:
    flags = _BASE_FLAGS + _ISA_FLAGS.get(torch.backends.cpu.get_cpu_capability(), [])
    compiler = os.environ.get("CC", "cc")
    key = hashlib.sha256("\0".join([SOURCE, compiler, platform.machine(), *flags]).encode())
    path = _cache_dir() / f"fused_{key.hexdigest()[:16]}.so"
    if not path.exists():
        with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
            src, out = Path(tmp) / "fused.c", Path(tmp) / "fused.so"
            src.write_text(SOURCE)
            subprocess.run(
                [compiler, *flags, str(src), "-o", str(out), "-lm"],
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            os.replace(out, path)  # atomic: concurrent builders agree on one file
    lib = ctypes.CDLL(str(path))
    for name, argtypes in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int if name in _RETURNS_INT else None
    return lib


def _library() -> ctypes.CDLL | None:
    global _lib, _tried
    if _tried:
        return _lib
    with _lock:
        if not _tried:
            if os.environ.get(_ENV, "1") != "0":
                try:
                    _lib = _build()
                except (OSError, subprocess.SubprocessError) as err:
                    detail = getattr(err, "stderr", "") or err
                    warnings.warn(
                        f"fused CPU kernels unavailable ({detail}); using torch ops, which are "
                        f"slower (set {_ENV}=0 to silence this)",
                        RuntimeWarning,
                        stacklevel=3,
                    )
            _tried = True
    return _lib


def enabled() -> bool:
    """Whether the compiled kernels are in use (False: the torch fallback runs)."""
    return _library() is not None and not _off


def set_enabled(on: bool) -> bool:
    """Switch the compiled kernels on or off for this process (e.g. to compare with the torch
    ops); returns the previous setting. Switching on has no effect where they cannot build."""
    global _off
    previous = not _off
    _off = not on
    return previous


def _usable(*tensors: Tensor) -> ctypes.CDLL | None:
    if _off or any(t.device.type != "cpu" or t.dtype != torch.float32 for t in tensors):
        return None
    return _library()


def _groups(x: Tensor, weight: Tensor) -> tuple[int, int, int]:
    """(rows, cols, rows_per_group) of x viewed as rows sharing parameter rows of `weight`."""
    cols = x.shape[-1]
    rows = x.numel() // cols
    groups = weight.numel() // cols
    if weight.numel() % cols or rows % groups or (groups > 1 and x.shape[0] != groups):
        raise ValueError(
            f"parameters of shape {tuple(weight.shape)} do not fit input {tuple(x.shape)}: "
            "expected (cols,), or (k, 1, cols) for an input (k, N, cols)"
        )
    return rows, cols, rows // groups


def _check_like(weight: Tensor, *others: Tensor | None) -> None:
    """The C code indexes every parameter like `weight`: refuse anything else."""
    for other in others:
        if other is not None and other.numel() != weight.numel():
            raise ValueError(
                f"parameter of shape {tuple(other.shape)} does not match {tuple(weight.shape)}"
            )


def _ptr(t: Tensor) -> int:
    return t.data_ptr()


def _output(x: Tensor, inplace: bool) -> Tensor:
    out = x.contiguous()
    return out if inplace or out is not x else x.clone()


def _pre_bias(x: Tensor, linear_bias: Tensor | None) -> Tensor:
    return x if linear_bias is None else x + linear_bias


def ln_mish(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    linear_bias: Tensor | None = None,
    eps: float = 1e-5,
    inplace: bool = False,
) -> Tensor:
    """mish(layer_norm(x + linear_bias) * weight + bias) without autograd (planning).

    weight, bias (and linear_bias): (cols,) for one layer, or (k, 1, cols) for k stacked
    heads when x is (k, N, cols). linear_bias is the preceding linear layer's bias, added here
    to save a pass over x. inplace: x may be overwritten (a temporary).
    """
    lib = _usable(x, weight, bias)
    if lib is None:
        return mish(layer_norm(_pre_bias(x, linear_bias), x.shape[-1:], eps=eps) * weight + bias)
    out = _output(x, inplace)
    weight, bias = weight.contiguous(), bias.contiguous()
    rows, cols, per_group = _groups(out, weight)
    _check_like(weight, bias, linear_bias)
    lb = None if linear_bias is None else linear_bias.contiguous()  # alive during the call
    lb_ptr = 0 if lb is None else _ptr(lb)
    lib.ln_mish_fwd(_ptr(out), lb_ptr, _ptr(weight), _ptr(bias), rows, cols, per_group, eps)
    return out


def ln_simnorm(
    x: Tensor,
    weight: Tensor,
    bias: Tensor,
    group_dim: int,
    linear_bias: Tensor | None = None,
    eps: float = 1e-5,
    inplace: bool = False,
) -> Tensor:
    """simnorm(layer_norm(x + linear_bias, weight, bias), group_dim) without autograd."""
    lib = _usable(x, weight, bias)
    if lib is None or x.shape[-1] % group_dim:
        h = layer_norm(_pre_bias(x, linear_bias), x.shape[-1:], weight, bias, eps)
        return simnorm(h, group_dim)
    out = _output(x, inplace)
    weight, bias = weight.contiguous(), bias.contiguous()  # named: alive during the call
    rows, cols, _ = _groups(out, weight)
    _check_like(weight, bias, linear_bias)
    lb = None if linear_bias is None else linear_bias.contiguous()
    lb_ptr = 0 if lb is None else _ptr(lb)
    lib.ln_simnorm_fwd(_ptr(out), lb_ptr, _ptr(weight), _ptr(bias), rows, cols, group_dim, eps)
    return out


def quantize_rows(x: Tensor) -> tuple[Tensor, Tensor]:
    """Symmetric int8 quantisation of each row of x (N, K): (q int8 (N, K), scale (N,)) with
    x ~ q * scale[:, None], scale = max|row| / 127 (1 for a zero row), round half away."""
    lib = _usable(x)
    if lib is None:
        scale = x.abs().amax(dim=1) / 127.0
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        v = x / scale[:, None]
        return (v + torch.where(v >= 0, 0.5, -0.5)).trunc().to(torch.int8), scale
    x = x.contiguous()
    rows, cols = x.shape
    q = torch.empty(rows, cols, dtype=torch.int8)
    scale = x.new_empty(rows)
    lib.quantize_rows_s8(_ptr(x), _ptr(q), _ptr(scale), rows, cols)
    return q, scale


def quantize_cols(x: Tensor) -> tuple[Tensor, Tensor]:
    """Symmetric int8 quantisation of each column of x (K, N): (q int8 (K, N), scale (N,)),
    as `quantize_rows` of x.t() but without transposing x."""
    lib = _usable(x)
    if lib is None:
        q, scale = quantize_rows(x.t())
        return q.t().contiguous(), scale
    x = x.contiguous()
    rows, cols = x.shape
    q = torch.empty(rows, cols, dtype=torch.int8)
    scale = x.new_empty(cols)
    lib.quantize_cols_s8(_ptr(x), _ptr(q), _ptr(scale), rows, cols)
    return q, scale


def dequantize_rows(acc: Tensor, row_scale: Tensor, col_scale: Tensor) -> Tensor:
    """float32 (N, M) of an int32 product acc (N, M): ``acc * row_scale[:, None] * col_scale``."""
    lib = _usable(row_scale, col_scale)
    if lib is None or acc.device.type != "cpu" or acc.dtype != torch.int32:
        return acc.to(row_scale.dtype) * row_scale[:, None] * col_scale
    acc, row_scale, col_scale = acc.contiguous(), row_scale.contiguous(), col_scale.contiguous()
    rows, cols = acc.shape
    if row_scale.shape != (rows,) or col_scale.shape != (cols,):
        raise ValueError(
            f"scales {tuple(row_scale.shape)}, {tuple(col_scale.shape)} do not fit a product of "
            f"shape {tuple(acc.shape)}"
        )
    out = torch.empty(rows, cols, dtype=torch.float32)
    lib.dequantize_rows(_ptr(acc), _ptr(row_scale), _ptr(col_scale), _ptr(out), rows, cols)
    return out


def dq_ln_mish_q(
    acc: Tensor,
    row_scale: Tensor,
    col_scale: Tensor,
    linear_bias: Tensor,
    weight: Tensor,
    bias: Tensor,
    eps: float = 1e-5,
) -> tuple[Tensor, Tensor]:
    """An int8 hidden layer's tail in one pass: ``quantize_rows(ln_mish(dequantize_rows(acc,
    row_scale, col_scale), weight, bias, linear_bias))``; parameters (cols,)."""
    lib = _usable(row_scale, col_scale, linear_bias, weight, bias)
    if lib is not None and acc.dtype == torch.int32 and acc.device.type == "cpu":
        acc = acc.contiguous()
        rows, cols = acc.shape
        _check_like(weight, bias, linear_bias, col_scale)
        if row_scale.shape != (rows,) or weight.numel() != cols:
            raise ValueError(
                f"row scales {tuple(row_scale.shape)} and parameters {tuple(weight.shape)} do "
                f"not fit a product of shape {tuple(acc.shape)}"
            )
        params = [t.contiguous() for t in (row_scale, col_scale, linear_bias, weight, bias)]
        q = torch.empty(rows, cols, dtype=torch.int8)
        q_scale = row_scale.new_empty(rows)
        ptrs = [_ptr(t) for t in (acc, *params, q, q_scale)]
        if lib.dq_ln_mish_q(*ptrs, rows, cols, eps) == 0:
            return q, q_scale
    h = dequantize_rows(acc, row_scale, col_scale)
    return quantize_rows(ln_mish(h, weight, bias, linear_bias, eps, inplace=True))


class _LinearNormMish(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, linear_bias, weight, bias, scale, eps):  # type: ignore[override]
        lib = _library()
        assert lib is not None
        x, linear_bias, weight, bias = (t.contiguous() for t in (x, linear_bias, weight, bias))
        scale = None if scale is None else scale.contiguous()
        rows, cols, per_group = _groups(x, weight)
        _check_like(weight, bias, linear_bias)
        if scale is not None and scale.shape != x.shape:
            raise ValueError(f"scale of shape {tuple(scale.shape)} must match x {tuple(x.shape)}")
        out = torch.empty_like(x)
        mean = x.new_empty(rows)
        rstd = x.new_empty(rows)
        lib.ln_mish_train_fwd(
            _ptr(x), _ptr(linear_bias), 0 if scale is None else _ptr(scale), _ptr(weight),
            _ptr(bias), _ptr(out), _ptr(mean), _ptr(rstd), rows, cols, per_group, eps,
        )  # fmt: skip
        ctx.save_for_backward(x, linear_bias, scale, weight, bias, mean, rstd)
        return out

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        lib = _library()
        assert lib is not None
        x, linear_bias, scale, weight, bias, mean, rstd = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        rows, cols, per_group = _groups(x, weight)
        grad_x = torch.empty_like(x)
        grads = [torch.zeros_like(t) for t in (linear_bias, weight, bias)]
        lib.ln_mish_train_bwd(
            _ptr(x), _ptr(linear_bias), 0 if scale is None else _ptr(scale), _ptr(weight),
            _ptr(bias), _ptr(mean), _ptr(rstd), _ptr(grad_out), _ptr(grad_x),
            *(_ptr(g) for g in grads), rows, cols, per_group,
        )  # fmt: skip
        return grad_x, *grads, None, None


def linear_norm_mish(
    x: Tensor,
    linear_bias: Tensor,
    weight: Tensor,
    bias: Tensor,
    scale: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """mish(layer_norm((x + linear_bias) * scale) * weight + bias), with autograd.

    The tail of a hidden layer Linear -> (Dropout) -> LayerNorm -> Mish, from the linear
    layer's output x *before* its bias: one pass forward, one backward (gradients for x and
    the three parameter tensors). scale: per-element factor of x's shape (a dropout mask
    divided by the keep rate), or None. Parameters are (cols,), or (k, 1, cols) for k stacked
    heads when x is (k, N, cols).
    """
    if _usable(x, linear_bias, weight, bias) is None:
        h = x + linear_bias if scale is None else (x + linear_bias) * scale
        return mish(layer_norm(h, h.shape[-1:], eps=eps) * weight + bias)
    if not torch.is_grad_enabled() or not any(
        t.requires_grad for t in (x, linear_bias, weight, bias)
    ):
        h = x if scale is None else (x + linear_bias) * scale
        return ln_mish(h, weight, bias, None if scale is not None else linear_bias, eps)
    return _LinearNormMish.apply(x, linear_bias, weight, bias, scale, eps)

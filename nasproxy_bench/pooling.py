"""A faster CPU average pool for the stride-1 "same" pools of cell spaces, bit-identical to torch's.

NB201's and DARTS's ``avg_pool_3x3`` (stride 1, padding 1, ``count_include_pad=False``) is one
of the costliest operations of a CPU proxy run: torch's CPU kernel takes about three times as
long as nine shifted tensor additions (README, Speed). ``SamePadAvgPool2d``
computes the pool as those additions, in the order torch's kernel accumulates (the window
row by row, left to right; a position outside the map adds an exact zero), then divides by the
number of valid positions, so the result is equal bit for bit. Its gradient is the same
shifted sum of ``grad / count``, the order torch's backward kernel scatters in, and the
gradient of that gradient is the pool again, as in torch's derivative formulas: first- and
second-order proxies (grasp) get the values they got from ``nn.AvgPool2d``. Anything else
(CUDA tensors, other strides or paddings) goes through ``nn.AvgPool2d`` unchanged.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn


def window_sum(x: torch.Tensor, kernel: int) -> torch.Tensor:
    """Sum over each ``kernel`` x ``kernel`` window centred on every position (zero outside), row-major order."""
    h, w = x.shape[-2:]
    r = kernel // 2
    padded = F.pad(x, (r, r, r, r))
    total = padded[..., :h, :w].clone()
    for dy in range(kernel):
        for dx in range(kernel):
            if dy or dx:
                total.add_(padded[..., dy:dy + h, dx:dx + w])
    return total


def valid_counts(h: int, w: int, kernel: int, like: torch.Tensor) -> torch.Tensor:
    """Number of in-map positions of each window (1 x 1 x h x w), the divisor of ``count_include_pad=False``."""
    return _counts(h, w, kernel, like.dtype, like.device)


@functools.lru_cache(maxsize=64)
def _counts(h: int, w: int, kernel: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    # a constant per map size, read (never written) by every pool pass: built once, not per call
    return window_sum(torch.ones(1, 1, h, w, dtype=dtype, device=device), kernel)


class _KernelFunction(torch.autograd.Function):
    """Keeps the window size for backward; vmap-able, as per-sample gradient proxies (gradsign, ntk_cond_ps) need."""

    generate_vmap_rule = True

    @staticmethod
    def setup_context(ctx, inputs: tuple, output: torch.Tensor) -> None:
        ctx.kernel = inputs[1]


class _Pool(_KernelFunction):
    @staticmethod
    def forward(x: torch.Tensor, kernel: int) -> torch.Tensor:
        return window_sum(x, kernel).div_(valid_counts(*x.shape[-2:], kernel, x))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return _PoolAdjoint.apply(grad, ctx.kernel), None


class _PoolAdjoint(_KernelFunction):
    """The pool's transpose: each input position gathers ``grad / count`` of the windows that contain it."""

    @staticmethod
    def forward(grad: torch.Tensor, kernel: int) -> torch.Tensor:
        return window_sum(grad / valid_counts(*grad.shape[-2:], kernel, grad), kernel)

    @staticmethod
    def backward(ctx, grad_grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return _Pool.apply(grad_grad, ctx.kernel), None


class SamePadAvgPool2d(nn.AvgPool2d):
    """``nn.AvgPool2d(kernel, stride, padding=kernel // 2, count_include_pad=False)`` with the fast CPU path at stride 1."""

    def __init__(self, kernel: int, stride: int = 1) -> None:
        super().__init__(kernel, stride=stride, padding=kernel // 2, count_include_pad=False)
        self.fast = kernel % 2 == 1 and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast and x.device.type == "cpu" and x.dim() == 4 and x.is_floating_point():
            return _Pool.apply(x, self.kernel_size)
        return super().forward(x)

"""The operations of the NDS cell spaces, written from the DARTS/NDS descriptions.

Every operation maps ``channels`` to ``channels`` and applies ``stride`` (1, or 2 on the edges
of a reduction cell that read a cell input). Separable convolutions are applied twice (the
DARTS convention), dilated ones once; the factorised 1xk/kx1 pairs share one BatchNorm.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from nasproxy_bench.pooling import SamePadAvgPool2d


class Zero(nn.Module):
    """The ``none`` operation: zeros of the (strided) input shape, so cell sums stay defined."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride] * 0.0


class FactorizedReduce(nn.Module):
    """Stride-2 reduction by two 1x1 convolutions on pixel grids offset by one, concatenated."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even output width, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_a = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


def relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
    )


def _depthwise_pointwise(c: int, kernel: int, stride: int, dilation: int) -> list[nn.Module]:
    padding = dilation * (kernel - 1) // 2
    return [
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, kernel, stride=stride, padding=padding, dilation=dilation, groups=c, bias=False),
        nn.Conv2d(c, c, 1, bias=False),
        nn.BatchNorm2d(c),
    ]


def sep_conv(c: int, kernel: int, stride: int, dilation: int = 1) -> nn.Sequential:
    """Two depthwise-separable units; only the first one strides."""
    return nn.Sequential(*_depthwise_pointwise(c, kernel, stride, dilation), *_depthwise_pointwise(c, kernel, 1, dilation))


def dil_conv(c: int, kernel: int, stride: int) -> nn.Sequential:
    """One depthwise-separable unit with dilation 2."""
    return nn.Sequential(*_depthwise_pointwise(c, kernel, stride, 2))


def factorized_conv(c: int, kernel: int, stride: int) -> nn.Sequential:
    """A 1xk then kx1 convolution (each strides along its own axis), one BatchNorm."""
    pad = kernel // 2
    return nn.Sequential(
        nn.ReLU(inplace=False),
        nn.Conv2d(c, c, (1, kernel), stride=(1, stride), padding=(0, pad), bias=False),
        nn.Conv2d(c, c, (kernel, 1), stride=(stride, 1), padding=(pad, 0), bias=False),
        nn.BatchNorm2d(c),
    )


def _avg_pool(kernel: int) -> Callable[[int, int], nn.Module]:
    return lambda c, stride: SamePadAvgPool2d(kernel, stride)  # = nn.AvgPool2d(kernel, stride, kernel // 2, count_include_pad=False)


def _max_pool(kernel: int) -> Callable[[int, int], nn.Module]:
    return lambda c, stride: nn.MaxPool2d(kernel, stride=stride, padding=kernel // 2)


def _skip(c: int, stride: int) -> nn.Module:
    return nn.Identity() if stride == 1 else FactorizedReduce(c, c)


OPS: dict[str, Callable[[int, int], nn.Module]] = {
    "none": lambda c, stride: Zero(stride),
    "skip_connect": _skip,
    "avg_pool_3x3": _avg_pool(3),
    "max_pool_3x3": _max_pool(3),
    "max_pool_5x5": _max_pool(5),
    "max_pool_7x7": _max_pool(7),
    "conv_1x1": lambda c, stride: relu_conv_bn(c, c, 1, stride),
    "conv_3x3": lambda c, stride: relu_conv_bn(c, c, 3, stride),
    "sep_conv_3x3": lambda c, stride: sep_conv(c, 3, stride),
    "sep_conv_5x5": lambda c, stride: sep_conv(c, 5, stride),
    "sep_conv_7x7": lambda c, stride: sep_conv(c, 7, stride),
    "dil_conv_3x3": lambda c, stride: dil_conv(c, 3, stride),
    "dil_conv_5x5": lambda c, stride: dil_conv(c, 5, stride),
    "dil_sep_conv_3x3": lambda c, stride: sep_conv(c, 3, stride, dilation=2),
    "conv_3x1_1x3": lambda c, stride: factorized_conv(c, 3, stride),
    "conv_7x1_1x7": lambda c, stride: factorized_conv(c, 7, stride),
}

"""TransNAS-Bench-101 encoders, written from the paper and the official code's structure.

Stem: conv3x3 stride 2 (3 -> 32, no bias), BatchNorm, then ReLU-conv3x3 stride 2 (32 -> 64)-BN:
the resolution drops 4x. Then one "module" per code digit, each two cells (micro: the searched
cell; macro: a ResNet basic block); a module doubles the channels when its digit is even and
halves the resolution when it is 3 or 4 (the first cell carries the stride / width change).
Convolutions get Kaiming-normal (fan_out) init and BatchNorms weight 1, bias 0, as officially.
"""

from __future__ import annotations

import torch
from torch import nn

from nasproxy_bench.adapters.nb201.network import ReLUConvBN, dense_dag_forward
from nasproxy_bench.adapters.transnas.arch import BASE_CHANNELS, MICRO_SKELETON, MacroArch, MicroArch
from nasproxy_bench.networks import StagedNetwork


class Zeroize(nn.Module):
    """Outputs zeros of the edge's output shape (channels ``c_out``, resolution / stride)."""

    def __init__(self, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_out, self.stride = c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        s = self.stride
        return x.new_zeros((n, self.c_out, (h + s - 1) // s, (w + s - 1) // s))


class FactorizedReduce(nn.Module):
    """Skip edge that changes shape: ReLU, two 1x1 convs (second shifted by one pixel), concat, BN."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.convs = nn.ModuleList([
            nn.Conv2d(c_in, c_out // 2, 1, stride=stride, bias=False),
            nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=stride, bias=False),
        ])
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x, (0, 1, 0, 1))[:, :, 1:, 1:]
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](shifted)], dim=1))


def micro_op(digit: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if digit == "0":
        return Zeroize(c_out, stride)
    if digit == "1":
        return nn.Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    return ReLUConvBN(c_in, c_out, 1 if digit == "2" else 3, stride)


class MicroCell(nn.Module):
    """Nodes 0..3; node j sums its edges from every earlier node; edges from node 0 carry the stride."""

    def __init__(self, arch: MicroArch, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList()
        for digits in arch.node_inputs():
            for source, digit in enumerate(digits):
                if source == 0:
                    self.edges.append(micro_op(digit, c_in, c_out, stride))
                else:
                    self.edges.append(micro_op(digit, c_out, c_out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dense_dag_forward(self.edges, x, 4)


# The official macro block builds its shortcut BatchNorm as ``BatchNorm2d(c, affine, track_running_stats)``:
# positionally those are eps and momentum, so the benchmark's networks (and NASLib's, which use the
# official builder) normalise the shortcut with eps = 1 and momentum = 1. We build the same network.
SHORTCUT_BN_EPS = 1.0
SHORTCUT_BN_MOMENTUM = 1.0


class BasicBlock(nn.Module):
    """ResNet basic block: two ReLU-conv3x3-BN; a 1x1 conv + BN shortcut when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                nn.BatchNorm2d(c_out, eps=SHORTCUT_BN_EPS, momentum=SHORTCUT_BN_MOMENTUM),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class TransNASEncoder(StagedNetwork):
    """Stem + modules; ``forward`` returns the final feature map (resolution / 4 / 2^downsamplings)."""

    def __init__(self, arch: MicroArch | MacroArch) -> None:
        super().__init__()
        code = MICRO_SKELETON if isinstance(arch, MicroArch) else arch.code
        half = BASE_CHANNELS // 2
        self.stem = nn.Sequential(
            nn.Conv2d(3, half, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(half),
            ReLUConvBN(half, BASE_CHANNELS, 3, 2),
        )
        channels = BASE_CHANNELS
        self.layers = nn.ModuleList()
        self.stage_ends: list[int] = []  # index of the last module of each resolution stage (-1: the stem)
        for index, digit in enumerate(code):
            target = channels * 2 if digit in "24" else channels
            stride = 2 if digit in "34" else 1
            if stride == 2:
                self.stage_ends.append(index - 1)
            first = self._cell(arch, channels, target, stride)
            self.layers.append(nn.Sequential(first, self._cell(arch, target, target, 1)))
            channels = target
        self.stage_ends.append(len(code) - 1)
        self.out_channels = channels
        self.downsamplings = sum(d in "34" for d in code)
        self._kaiming_init()

    @staticmethod
    def _cell(arch: MicroArch | MacroArch, c_in: int, c_out: int, stride: int) -> nn.Module:
        if isinstance(arch, MicroArch):
            return MicroCell(arch, c_in, c_out, stride)
        return BasicBlock(c_in, c_out, stride)

    def _kaiming_init(self) -> None:
        if any(p.is_meta for p in self.parameters()):
            return  # shapes only (costs, verify): random init on 'meta' costs time and sets nothing
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def output_size(self, input_size: int) -> int:
        """Spatial size of the final feature map for a square input of ``input_size``."""
        size = input_size
        for _ in range(2 + self.downsamplings):
            size = (size + 1) // 2
        return size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for module in self.layers:
            x = module(x)
        return x

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        outs = [x] if -1 in self.stage_ends else []
        for index, module in enumerate(self.layers):
            x = module(x)
            if index in self.stage_ends:
                outs.append(x)
        return outs

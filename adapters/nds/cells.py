"""The NDS cell networks (Amoeba, DARTS, ENAS, NASNet, PNAS spaces), as NDS builds them.

A cell has two inputs (the outputs of the two previous cells, each first mapped to the cell
width C: a 1x1 ReLU-conv-BN, or a factorised reduction when the previous cell halved the
resolution) and ``len(ops) / 2`` nodes; node k sums two operations applied to earlier states
(0, 1 = inputs, 2.. = nodes). The cell output concatenates the states listed in ``concat``.
Reduction cells (width doubled, stride 2 on the edges that read an input) sit at depth // 3
and 2 * depth // 3. ImageNet networks start with three stride-2 3x3 convolutions (C/2, C, C),
CIFAR networks with one 3x3 convolution of 3C channels. No auxiliary head is built: the
official parameter counts exclude it (all entries have ``aux: false``), and drop-path has no
parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasproxy_bench.adapters.nds.arch import CellArch
from nasproxy_bench.adapters.nds.ops import OPS, FactorizedReduce, relu_conv_bn
from nasproxy_bench.networks import StagedNetwork


class Cell(nn.Module):
    def __init__(
        self, ops: Sequence[tuple[str, int]], concat: Sequence[int], c_prev_prev: int, c_prev: int, c: int,
        reduction: bool, reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.pre0 = FactorizedReduce(c_prev_prev, c) if reduction_prev else relu_conv_bn(c_prev_prev, c, 1, 1)
        self.pre1 = relu_conv_bn(c_prev, c, 1, 1)
        self.inputs = tuple(index for _, index in ops)
        self.concat = tuple(concat)
        self.ops = nn.ModuleList(OPS[name](c, 2 if reduction and index < 2 else 1) for name, index in ops)
        self.out_channels = len(self.concat) * c

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for node in range(len(self.ops) // 2):
            a, b = 2 * node, 2 * node + 1
            states.append(self.ops[a](states[self.inputs[a]]) + self.ops[b](states[self.inputs[b]]))
        return torch.cat([states[i] for i in self.concat], dim=1)


class CellNetwork(StagedNetwork):
    """A stack of ``depth`` cells; ``imagenet`` picks the stem (3 stride-2 convs) over the CIFAR one."""

    def __init__(self, arch: CellArch, num_classes: int, imagenet: bool) -> None:
        super().__init__()
        c = arch.width
        if imagenet:
            self.stem0 = nn.Sequential(
                nn.Conv2d(3, c // 2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(inplace=False),
                nn.Conv2d(c // 2, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c),
            )
            self.stem1 = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c))
            c_prev_prev, c_prev, reduction_prev = c, c, True
        else:
            self.stem0 = nn.Sequential(nn.Conv2d(3, 3 * c, 3, padding=1, bias=False), nn.BatchNorm2d(3 * c))
            self.stem1 = None
            c_prev_prev, c_prev, reduction_prev = 3 * c, 3 * c, False
        self.reductions = (arch.depth // 3, 2 * arch.depth // 3)
        self.cells = nn.ModuleList()
        for i in range(arch.depth):
            reduction = i in self.reductions
            if reduction:
                c *= 2
            ops, concat = (arch.reduce, arch.reduce_concat) if reduction else (arch.normal, arch.normal_concat)
            cell = Cell(ops, concat, c_prev_prev, c_prev, c, reduction, reduction_prev)
            self.cells.append(cell)
            c_prev_prev, c_prev, reduction_prev = c_prev, cell.out_channels, reduction
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def _cells(self, x: torch.Tensor, keep: set[int]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        s0 = self.stem0(x)
        s1 = self.stem1(s0) if self.stem1 is not None else s0
        kept = []
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i in keep:
                kept.append(s1)
        return s1, kept

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of the last cell before each reduction cell and of the last cell: 3 resolutions.

        ImageNet: strides 8, 16, 32; CIFAR: strides 1, 2, 4 (GenNAS takes these three).
        """
        keep = {r - 1 for r in self.reductions if r > 0} | {len(self.cells) - 1}
        return self._cells(x, keep)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self._cells(x, set())[0]).flatten(1))

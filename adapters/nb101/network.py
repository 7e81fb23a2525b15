"""The NAS-Bench-101 network, written from the paper and the official model builder's rules.

Skeleton: 3x3 conv-BN-ReLU stem (128 channels); 3 stacks of 3 cells; a 2x2 stride-2 max-pool
and a doubling of the channels before stacks 2 and 3; global average pooling; a linear layer.

Inside a cell (the pruned spec): the output concatenates the vertices that feed it, so its
channels are split evenly among them (the first ``remainder`` get one more); every other
vertex takes the largest width among its successors. Edges from the input vertex go through a
1x1 conv-BN-ReLU projection to the target's width; edges between interior vertices are added
after dropping the surplus channel (truncation). An input->output edge adds a projection of
the input to the concatenation. Convolutions have no bias; BatchNorm has scale and offset, so
the trainable parameters are exactly the TensorFlow ``trainable_variables`` counted officially.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasproxy_bench.adapters.nb101.spec import CONV1X1, CONV3X3, MAXPOOL3X3
from nasproxy_bench.networks import StagedNetwork

STEM_CHANNELS = 128
NUM_STACKS = 3
CELLS_PER_STACK = 3
# The official BatchNorm: TF momentum 0.997 (PyTorch momentum = 1 - 0.997) and epsilon 1e-5.
BN_MOMENTUM = 1 - 0.997
BN_EPS = 1e-5


def vertex_channels(in_channels: int, out_channels: int, matrix: Sequence[Sequence[int]]) -> list[int]:
    """Output width of every vertex of a pruned cell (the official channel-splitting rule)."""
    n = len(matrix)
    widths = [0] * n
    widths[0], widths[-1] = in_channels, out_channels
    if n == 2:
        return widths
    fan_in = sum(matrix[v][n - 1] for v in range(1, n - 1))
    base, remainder = divmod(out_channels, fan_in)
    for v in range(1, n - 1):
        if matrix[v][n - 1]:
            widths[v] = base + (1 if remainder > 0 else 0)
            remainder -= 1 if remainder > 0 else 0
    for v in range(n - 3, 0, -1):
        if not matrix[v][n - 1]:
            widths[v] = max((widths[dst] for dst in range(v + 1, n - 1) if matrix[v][dst]), default=0)
    return widths


class ConvBNReLU(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),
        )


def make_op(name: str, channels: int) -> nn.Module:
    if name == CONV3X3:
        return ConvBNReLU(channels, channels, 3)
    if name == CONV1X1:
        return ConvBNReLU(channels, channels, 1)
    if name == MAXPOOL3X3:
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise ValueError(f"unknown NB101 operation {name!r}")


class Cell(nn.Module):
    """One module of the official network for a pruned (matrix, ops) spec."""

    def __init__(self, matrix: Sequence[Sequence[int]], ops: Sequence[str], c_in: int, c_out: int) -> None:
        super().__init__()
        self.matrix = [list(row) for row in matrix]
        n = len(self.matrix)
        self.widths = vertex_channels(c_in, c_out, self.matrix)
        self.ops = nn.ModuleList([nn.Identity()] + [make_op(op, self.widths[v]) for v, op in enumerate(ops) if 0 < v < n - 1])
        # projections[v]: input -> vertex v (for v < n-1 only when matrix[0][v]; v = n-1: input -> output)
        self.projections = nn.ModuleDict(
            {str(v): ConvBNReLU(c_in, self.widths[v], 1) for v in range(1, n) if self.matrix[0][v]}
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        values = [x]
        concat = []
        for t in range(1, n - 1):
            width = self.widths[t]
            inputs = [values[src][:, :width] for src in range(1, t) if self.matrix[src][t]]
            if self.matrix[0][t]:
                inputs.append(self.projections[str(t)](x))
            total = inputs[0]
            for extra in inputs[1:]:
                total = total + extra
            values.append(self.ops[t](total))
            if self.matrix[t][n - 1]:
                concat.append(values[t])
        if not concat:
            return self.projections[str(n - 1)](x)
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if self.matrix[0][n - 1]:
            out = out + self.projections[str(n - 1)](x)
        return out


class NB101Network(StagedNetwork):
    def __init__(self, matrix: Sequence[Sequence[int]], ops: Sequence[str], num_classes: int = 10,
                 stem_channels: int = STEM_CHANNELS, stacks: int = NUM_STACKS, cells_per_stack: int = CELLS_PER_STACK) -> None:
        super().__init__()
        self.stem = ConvBNReLU(3, stem_channels, 3)
        stages: list[nn.Module] = []
        c_in = channels = stem_channels
        for stack in range(stacks):
            layers: list[nn.Module] = []
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                channels *= 2
            for _ in range(cells_per_stack):
                layers.append(Cell(matrix, ops, c_in, channels))
                c_in = channels
            stages.append(nn.Sequential(*layers))
        self.stacks = nn.ModuleList(stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of the 3 stacks (128, 256, 512 channels at H, H/2, H/4)."""
        outs = []
        x = self.stem(x)
        for stack in self.stacks:
            x = stack(x)
            outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.stage_outputs(x)[-1]).flatten(1))


def analytic_flops(matrix: Sequence[Sequence[int]], ops: Sequence[str], num_classes: int = 10, size: int = 32,
                   stem_channels: int = STEM_CHANNELS, stacks: int = NUM_STACKS, cells_per_stack: int = CELLS_PER_STACK) -> int:
    """Multiply-accumulates of every conv and the linear layer, the convention of ``complexity.count_flops``.

    Closed form of the network above (no module is built), so the whole table costs milliseconds;
    ``verify --flops`` checks it against the hook-based counter on real networks.
    """
    n = len(matrix)
    kernels = {CONV3X3: 9, CONV1X1: 1, MAXPOOL3X3: 0}
    total = 27 * stem_channels * size * size
    c_in = channels = stem_channels
    for stack in range(stacks):
        if stack > 0:
            size //= 2
            channels *= 2
        for _ in range(cells_per_stack):
            widths = vertex_channels(c_in, channels, matrix)
            for v in range(1, n):
                if matrix[0][v]:
                    total += c_in * widths[v] * size * size
                if v < n - 1:
                    total += kernels[ops[v]] * widths[v] * widths[v] * size * size
            c_in = channels
    return total + channels * num_classes + num_classes  # linear weights and bias

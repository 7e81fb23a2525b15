"""The NAS-Bench-201 / NATS-Bench topology-space network, written from the paper's description.

Macro skeleton (Dong & Yang, ICLR'20): 3x3 conv stem (C=16) + BN; three stages of N=5 cells
with C, 2C, 4C channels; a residual reduction block between stages; BN-ReLU, global average
pooling and a linear classifier. A cell is a 4-node DAG; node i sums one operation applied to
every earlier node, and node 3 is the cell output. Every edge keeps its module even when its
result cannot reach the output, as in the official code: parameter and FLOP counts depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasproxy_bench.networks import StagedNetwork

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
EDGES = tuple((i, j) for i in range(1, NUM_NODES) for j in range(i))  # (to, from), official order


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` operation: a zero tensor of the input's shape (keeps the graph connected)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 0.0


def make_op(name: str, channels: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 operation {name!r}; expected one of {OPS}")


class Cell(nn.Module):
    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        edge = 0
        for to in range(1, NUM_NODES):
            total = None
            for source in range(to):
                out = self.edges[edge](nodes[source])
                total = out if total is None else total + out
                edge += 1
            nodes.append(total)
        return nodes[-1]


class ResidualReduction(nn.Module):
    """Stride-2 basic residual block that doubles the channels between stages."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(StagedNetwork):
    def __init__(
        self, ops: Sequence[str], num_classes: int, channels: int = 16, cells_per_stage: int = 5
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers: list[nn.Module] = []
        stage_ends: list[int] = []
        c = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers.extend(Cell(ops, c) for _ in range(cells_per_stage))
            stage_ends.append(len(layers) - 1)
        self.cells = nn.Sequential(*layers)
        self.stage_ends = tuple(stage_ends)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of the last cell of each of the 3 stages (C, 2C, 4C channels; H, H/2, H/4)."""
        outs = []
        x = self.stem(x)
        for index, layer in enumerate(self.cells):
            x = layer(x)
            if index in self.stage_ends:
                outs.append(x)
        return outs

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pre-pooling feature map (used by Zen-score)."""
        return self.head(self.cells(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))

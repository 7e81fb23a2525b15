"""The NAS-Bench-201 / NATS-Bench topology-space network, written from the paper's description.

Macro skeleton (Dong & Yang, ICLR'20): 3x3 conv stem (C=16) + BN; three stages of N=5 cells
with C, 2C, 4C channels; a residual reduction block between stages; BN-ReLU, global average
pooling and a linear classifier. A cell is a 4-node DAG; node i sums one operation applied to
every earlier node, and node 3 is the cell output. Every edge keeps its module even when its
result cannot reach the output, as in the official code: parameter and FLOP counts depend on it.

``TinyCellNetwork`` is the same skeleton with one width per layer, as the NATS-Bench size space
uses it; the blocks then also map between different widths, as the official code builds them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from nasproxy_bench.benchmark import CELL_BATCHNORMS
from nasproxy_bench.networks import StagedNetwork
from nasproxy_bench.pooling import SamePadAvgPool2d

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_NODES = 4
STEM_CHANNELS = 16  # C of the benchmark's networks (widths C, 2C, 4C)
EDGES = tuple((i, j) for i in range(1, NUM_NODES) for j in range(i))  # (to, from), official order


def dense_dag_forward(edges: Sequence[nn.Module], x: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Node i = sum over j < i of edge (j -> i) applied to node j; edges in (1<-0, 2<-0, 2<-1, ...) order.

    The cell of NB201 / NATS and of the TransNAS-Bench-101 micro space; returns the last node.
    """
    nodes, edge = [x], 0
    for to in range(1, num_nodes):
        total = None
        for source in range(to):
            out = edges[edge](nodes[source])
            total = out if total is None else total + out
            edge += 1
        nodes.append(total)
    return nodes[-1]


def batchnorm(channels: int, kind: str = "standard") -> nn.BatchNorm2d:
    """The benchmark's BatchNorm (``standard``), or ``batch_stats``: no scale/shift and batch statistics in
    eval mode too, as in the cells of GenNAS's public NB201 model (foresight ``nasbench2``)."""
    if kind == "standard":
        return nn.BatchNorm2d(channels)
    if kind == "batch_stats":
        return nn.BatchNorm2d(channels, affine=False, track_running_stats=False)
    raise ValueError(f"unknown cell BatchNorm {kind!r}; expected one of {CELL_BATCHNORMS}")


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, bn: str = "standard") -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            batchnorm(c_out, bn),
        )


class Zero(nn.Module):
    """The ``none`` operation: zeros of the output's shape (keeps the graph connected)."""

    def __init__(self, c_out: int | None = None) -> None:
        super().__init__()
        self.c_out = c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c_out is None or self.c_out == x.shape[1]:
            return x * 0.0
        return x.new_zeros(x.shape[0], self.c_out, *x.shape[2:])


class ChannelProjection(nn.Sequential):
    """``skip_connect`` between different widths: 1x1 conv + BN, no activation (official stride-1 case)."""

    def __init__(self, c_in: int, c_out: int, bn: str = "standard") -> None:
        super().__init__(nn.Conv2d(c_in, c_out, 1, bias=False), batchnorm(c_out, bn))


def make_op(name: str, c_in: int, c_out: int | None = None, bn: str = "standard") -> nn.Module:
    """One cell edge from ``c_in`` to ``c_out`` channels (``c_out`` defaults to ``c_in``), stride 1.

    Equal widths give the plain NB201 operations. Different widths (NATS-Bench size space)
    follow the official code: convolutions change the width themselves, ``skip_connect``
    becomes a 1x1 projection, ``avg_pool_3x3`` is preceded by a 1x1 ReLU-conv-BN.
    """
    c_out = c_in if c_out is None else c_out
    if name == "none":
        return Zero(None if c_out == c_in else c_out)
    if name == "skip_connect":
        return nn.Identity() if c_out == c_in else ChannelProjection(c_in, c_out, bn)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, 1, bn)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, 1, bn)
    if name == "avg_pool_3x3":
        pool = SamePadAvgPool2d(3)  # nn.AvgPool2d(3, 1, 1, count_include_pad=False), bit-identical and faster on CPU
        return pool if c_out == c_in else nn.Sequential(ReLUConvBN(c_in, c_out, 1, 1, bn), pool)
    raise ValueError(f"unknown NB201 operation {name!r}; expected one of {OPS}")


class Cell(nn.Module):
    """Edges leaving the cell input map ``c_in`` to ``c_out`` channels; all later edges keep ``c_out``."""

    def __init__(self, ops: Sequence[str], c_in: int, c_out: int | None = None, bn: str = "standard") -> None:
        super().__init__()
        c_out = c_in if c_out is None else c_out
        self.edges = nn.ModuleList(
            make_op(op, c_in if source == 0 else c_out, c_out, bn) for op, (_to, source) in zip(ops, EDGES, strict=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dense_dag_forward(self.edges, x, NUM_NODES)


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


class TinyCellNetwork(StagedNetwork):
    """The NATS-Bench macro skeleton with one width per layer (the official ``DynamicShapeTinyNet``).

    ``widths`` has 3N+2 entries: N cells, a residual reduction, N cells, a reduction, N cells;
    the stem has ``widths[0]`` channels and every layer maps the previous width to its own.
    """

    def __init__(self, ops: Sequence[str], widths: Sequence[int], num_classes: int, cell_bn: str = "standard") -> None:
        super().__init__()
        if len(widths) % 3 != 2:
            raise ValueError(f"a tiny cell network needs 3N+2 layer widths, got {len(widths)}")
        per_stage = len(widths) // 3
        self.stem = nn.Sequential(
            nn.Conv2d(3, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0])
        )
        layers: list[nn.Module] = []
        c = widths[0]
        for index, width in enumerate(widths):
            reduction = index % (per_stage + 1) == per_stage
            layers.append(ResidualReduction(c, width) if reduction else Cell(ops, c, width, cell_bn))
            c = width
        self.cells = nn.Sequential(*layers)
        self.stage_ends = (per_stage - 1, 2 * per_stage, 3 * per_stage + 1)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of the last layer of each of the 3 stages (resolutions H, H/2, H/4)."""
        outs = []
        x = self.stem(x)
        for index, layer in enumerate(self.cells):
            x = layer(x)
            if index in self.stage_ends:
                outs.append(x)
        return outs

    def block_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The stem output and the output of every cell and reduction block (3N+3 maps)."""
        outs = [self.stem(x)]
        for layer in self.cells:
            outs.append(layer(outs[-1]))
        return outs

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The pre-pooling feature map (used by Zen-score)."""
        return self.head(self.cells(self.stem(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.features(x)).flatten(1))


class NB201Network(TinyCellNetwork):
    """NB201 / NATS-tss: widths C, 2C, 4C with N cells per stage; ``cell_bn`` the BatchNorm of the cells."""

    def __init__(
        self, ops: Sequence[str], num_classes: int, channels: int = STEM_CHANNELS, cells_per_stage: int = 5,
        cell_bn: str = "standard",
    ) -> None:
        n = cells_per_stage
        widths = [channels] * n + [2 * channels] * (n + 1) + [4 * channels] * (n + 1)
        super().__init__(ops, widths, num_classes, cell_bn)


class ResizedCellNetwork(TinyCellNetwork):
    """NB201's skeleton at another size: TE-NAS's probe networks (``TinyNetworkDarts`` with C, N, depth, use_stem).

    Widths C, 2C, 4C with ``cells_per_stage`` cells per stage; ``depth`` keeps the first layers
    only (TE-NAS's linear-region network is C=1, one cell, no stem: its input has C channels).
    The head (BN-ReLU, pooling, classifier) follows the last kept layer.
    """

    def __init__(
        self, ops: Sequence[str], num_classes: int, channels: int, cells_per_stage: int, *, depth: int | None = None, stem: bool = True
    ) -> None:
        n = cells_per_stage
        if channels < 1 or n < 1:
            raise ValueError(f"a resized NB201 network needs channels >= 1 and cells_per_stage >= 1, got {channels}, {n}")
        widths = [channels] * n + [2 * channels] * (n + 1) + [4 * channels] * (n + 1)
        if depth is not None and not 1 <= depth <= len(widths):
            raise ValueError(f"depth must be between 1 and {len(widths)} layers, got {depth}")
        kept = widths if depth is None else widths[:depth]
        super().__init__(ops, widths, num_classes)
        if len(kept) != len(self.cells):
            self.cells = self.cells[: len(kept)]
            self.stage_ends = tuple(end for end in self.stage_ends if end < len(kept))
            self.head = nn.Sequential(nn.BatchNorm2d(kept[-1]), nn.ReLU(inplace=False))
            self.classifier = nn.Linear(kept[-1], num_classes)
        if not stem:
            self.stem = nn.Identity()

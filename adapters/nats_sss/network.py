"""The NATS-Bench size-space network: the NB201 skeleton, one cell per stage, a fixed cell.

As in the official ``DynamicShapeTinyNet``: stem (3x3 conv to ``c0`` + BN), cell ``c0->c0``,
residual reduction ``c0->c1``, cell ``c1->c2``, reduction ``c2->c3``, cell ``c3->c4``, then
BN-ReLU, global average pooling and a linear classifier. The cell is the NB201 cell below;
in a cell that changes width, edges leaving the cell input map to the new width.
"""

from __future__ import annotations

from collections.abc import Sequence

from nasproxy_bench.adapters.nb201.benchmark import NB201Arch
from nasproxy_bench.adapters.nb201.network import TinyCellNetwork

FIXED_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


class NATSSizeNetwork(TinyCellNetwork):
    def __init__(self, channels: Sequence[int], num_classes: int) -> None:
        if len(channels) != 5:
            raise ValueError(f"a NATS-Bench size-space network has 5 widths, got {len(channels)}")
        super().__init__(NB201Arch.parse(FIXED_CELL).ops, channels, num_classes)

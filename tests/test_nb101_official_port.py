"""Why we do not use nasbench-pytorch (the ``official`` extra): measured, skipped without it."""

from __future__ import annotations

import pytest
import torch

from nasproxy_bench.adapters.nb101.network import BN_MOMENTUM, NB101Network
from nasproxy_bench.complexity import count_params
from tests.nb101_fixtures import OFFICIAL_ROWS


def test_nasbench_pytorch_does_not_reproduce_the_official_count():
    port = pytest.importorskip("nasbench_pytorch.model")
    _, matrix, ops, official = OFFICIAL_ROWS[0]
    theirs = port.Network(port.ModelSpec(matrix, ops))
    placeholders = sum(p.numel() for m in theirs.modules() if type(m).__name__ == "Placeholder" for p in m.parameters())
    # 1.3.1: one scalar 'Placeholder' parameter per unused slot (27 here) on top of the official count,
    # and the TensorFlow momentum 0.997 passed where PyTorch expects 1 - 0.997
    assert count_params(theirs) == official + placeholders and placeholders > 0
    assert {m.momentum for m in theirs.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {0.997}
    ours = NB101Network(matrix, ops)
    assert count_params(ours) == official
    assert {m.momentum for m in ours.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {BN_MOMENTUM}  # 1 - 0.997

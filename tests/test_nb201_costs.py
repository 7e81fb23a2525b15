"""Our NB201 networks against the official parameter and FLOP counts."""

import pytest
import torch

from nasproxy_bench.adapters.nb201 import NB201Benchmark
from nasproxy_bench.complexity import count_flops, count_params

ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"


def test_parameter_count_by_hand(fake_root):
    # stem 3*16*9 + BN 32; reduction 1: 16*32*9+64 + 32*32*9+64 + 16*32; reduction 2: 32*64*9+128
    # + 64*64*9+128 + 32*64; head BN 128; classifier 64*10+10. Parameter-free cells add nothing.
    expected = (432 + 32) + (4672 + 9280 + 512) + (18560 + 36992 + 2048) + 128 + 650
    net = NB201Benchmark(fake_root).build(ALL_SKIP, "cifar10")
    assert count_params(net) == expected == 73306


def test_flops_by_hand_for_a_linear_layer():
    layer = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Conv1d(1, 1, 1))
    assert count_flops(torch.nn.Linear(5, 3), (5,)) == 5 * 3 + 3
    conv = torch.nn.Conv2d(2, 4, 3, padding=1, bias=False)
    assert count_flops(conv, (2, 8, 8)) == 2 * 9 * 4 * 64
    assert count_params(layer) == 18 + 2


def test_every_50th_architecture_matches_official_params_and_flops(shared):
    result = NB201Benchmark(shared).verify(stride=50, flops=True)
    assert result.checked == 313 * 3
    assert result.mismatches == []
    assert result.max_errors["params_M"] < 1e-6


@pytest.mark.slow
def test_every_architecture_matches_official_params(shared):
    """All 15,625 x 3 (about 15 min on 2 cores); run with -m slow or 'nasproxy-bench verify nb201'."""
    result = NB201Benchmark(shared).verify(stride=1)
    assert result.checked == 15625 * 3
    assert result.mismatches == []

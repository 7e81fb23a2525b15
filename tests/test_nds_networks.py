"""Hand-checked parameter and FLOP counts of tiny NDS networks, and their stage outputs."""

from __future__ import annotations

import torch

from nasproxy_bench.adapters.nds.anynet import AnyNetwork
from nasproxy_bench.adapters.nds.arch import arch_from_entry
from nasproxy_bench.adapters.nds.cells import CellNetwork
from nasproxy_bench.adapters.nds.flops import ANYNET, CELL, nds_flops
from nasproxy_bench.complexity import count_params
from tests.nds_fixtures import TINY_BASIC_NET, TINY_BOTTLENECK_NET, TINY_CELL_NET


def test_tiny_cell_network_parameters_by_hand():
    # CIFAR stem 3x3 3->6 + BN: 162 + 12 = 174
    # cell 0 (normal, C=2): two 1x1 preprocess 6->2 (+BN) 2 x 16, sep_conv_3x3 = 2 x (18 + 4 + 4) = 52, skip 0 -> 84
    # cell 1 (reduce, C=4): 1x1 6->4 (24 + 8), 1x1 2->4 (8 + 8), max pool 0, conv_1x1 4->4 (16 + 8) -> 72
    # cell 2 (reduce, C=8, previous reduced): factorized reduce 2->8 (2 x 8 + 16), 1x1 4->8 (32 + 16), conv_1x1 (64 + 16) -> 160
    # classifier 8 -> 10 with bias: 90
    net = CellNetwork(arch_from_entry(TINY_CELL_NET, None).net, 10, imagenet=False)
    assert count_params(net) == 174 + 84 + 72 + 160 + 90


def test_tiny_basic_anynet_parameters_and_flops_by_hand():
    # stem 3x3 3->4 + BN: 108 + 8; block 3x3 4->8 (288 + 16), 3x3 8->8 (576 + 16), projection 1x1 4->8 (32 + 16); fc 80 + 10
    net = AnyNetwork(arch_from_entry(TINY_BASIC_NET, None).net, 10)
    assert count_params(net) == 116 + 944 + 90
    # at 8x8: stem conv 108*64 + 5 per BN element (4*64); stride-2 block at 4x4: convs 288*16, 576*16, 32*16
    # and three BNs of 8*16 elements; fc 80 + 10 (ReLU, pooling and the residual sum count nothing)
    expected = 108 * 64 + 5 * 256 + (288 + 576 + 32) * 16 + 3 * 5 * 128 + 90
    assert nds_flops(net, (3, 8, 8), ANYNET) == expected == 24538


def test_bottleneck_groups_divide_the_inner_width():
    # inner width 8 * 0.5 = 4; 1x1 4->4 (16 + 8), 3x3 with 2 groups 4*2*9 (72 + 8), 1x1 4->8 (32 + 16), projection (32 + 16)
    net = AnyNetwork(arch_from_entry(TINY_BOTTLENECK_NET, None).net, 10)
    assert count_params(net) == 116 + 200 + 90
    grouped = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d) and m.groups > 1]
    assert [(m.groups, m.in_channels) for m in grouped] == [(2, 4)]


def test_cell_flop_convention_charges_relu_and_pools():
    net = torch.nn.Sequential(
        torch.nn.ReLU(), torch.nn.MaxPool2d(3, stride=1, padding=1), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(2, 3),
    )
    # ReLU 2*4*4 = 32, max pool 9 per output element = 288, global pool one per input element = 32, fc 6 + 3
    assert nds_flops(net, (2, 4, 4), CELL) == 32 + 288 + 32 + 9
    assert nds_flops(net, (2, 4, 4), ANYNET) == 9


def test_dilated_conv_is_charged_for_the_undilated_output_size():
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 3, padding=2, dilation=2, groups=2, bias=False))
    # true output 4x4; the NDS cell count uses (4 + 4 - 3) + 1 = 6 -> 18 weights * 36
    assert nds_flops(net, (2, 4, 4), CELL) == 18 * 36
    assert nds_flops(net, (2, 4, 4), ANYNET) == 18 * 16


def test_stage_outputs_are_three_resolutions():
    cells = CellNetwork(arch_from_entry(TINY_CELL_NET, None).net, 10, imagenet=False)
    shapes = [tuple(o.shape[1:]) for o in cells.stage_outputs(torch.zeros(1, 3, 8, 8))]
    assert shapes == [(2, 8, 8), (4, 4, 4), (8, 2, 2)]
    deep = {"block_type": "double_plain_block", "bot_muls": [], "ds": [1, 1, 2, 1], "num_gs": [], "ss": [1, 1, 2, 2],
            "ws": [4, 4, 8, 8]}
    anynet = AnyNetwork(arch_from_entry(deep, None).net, 10)
    assert [tuple(o.shape[1:]) for o in anynet.stage_outputs(torch.zeros(1, 3, 8, 8))] == [(4, 8, 8), (8, 4, 4), (8, 2, 2)]
    assert anynet(torch.zeros(2, 3, 8, 8)).shape == (2, 10)


def test_imagenet_stem_strides_eight():
    net = CellNetwork(arch_from_entry(TINY_CELL_NET, None).net, 1000, imagenet=True)
    assert [o.shape[-1] for o in net.stage_outputs(torch.zeros(1, 3, 64, 64))] == [8, 4, 2]
    assert net(torch.zeros(1, 3, 64, 64)).shape == (1, 1000)

"""Our NATS-Bench size-space networks against hand counts and the official records."""

import torch

from nasproxy_bench.adapters.nats_sss import NATSSizeBenchmark
from nasproxy_bench.adapters.nb201.network import ChannelProjection, ReLUConvBN
from nasproxy_bench.complexity import count_flops, count_params


def test_all_eights_by_hand(tmp_path):
    # stem 3*8*9 + BN 16; a cell of 5 conv3x3 8->8 (576 + BN 16 each) = 2960, three of them;
    # reduction 8->8: two 3x3 convs (592 each) + 1x1 shortcut 64 = 1248, two of them; head BN 16; linear 8*10+10
    net = NATSSizeBenchmark(tmp_path).build("8:8:8:8:8", "cifar10")
    assert count_params(net) == 232 + 3 * 2960 + 2 * 1248 + 16 + 90 == 11714
    # FLOPs: stem 216*32*32; cells 5*576 MACs per pixel at 32x32, 16x16, 8x8; reductions (2*576+64)
    # at 16x16 and 8x8; linear 80 + 10 bias
    flops = 216 * 1024 + 5 * 576 * (1024 + 256 + 64) + (2 * 576 + 64) * (256 + 64) + 90
    assert count_flops(net, (3, 32, 32)) == flops == 4481114


def test_width_changing_cell_projects_only_edges_leaving_its_input(tmp_path):
    net = NATSSizeBenchmark(tmp_path).build("8:8:8:16:32", "cifar10")
    last = net.cells[4]  # the stage-3 cell, 16 -> 32 channels
    skip = last.edges[3]  # skip_connect~0 of node 3
    assert isinstance(skip, ChannelProjection) and skip[0].in_channels == 16 and skip[0].out_channels == 32
    first_conv = last.edges[0]
    assert isinstance(first_conv, ReLUConvBN) and first_conv[1].in_channels == 16 and first_conv[1].out_channels == 32
    assert last.edges[2][1].in_channels == 32  # 2 <- 1 stays at the new width
    assert isinstance(net.cells[0].edges[3], torch.nn.Identity)  # equal widths keep the identity skip


def test_stage_outputs_are_the_three_cell_outputs(tmp_path):
    net = NATSSizeBenchmark(tmp_path).build("16:24:32:40:48", "ImageNet16-120")
    outs = net.stage_outputs(torch.zeros(2, 3, 16, 16))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 16, 16), (32, 8, 8), (48, 4, 4)]
    assert net.stage_channels((3, 16, 16)) == [16, 32, 48]
    assert net(torch.zeros(2, 3, 16, 16)).shape == (2, 120)


def test_every_official_fixture_record_matches_params_and_flops(shared):
    result = NATSSizeBenchmark(shared).verify()
    assert result.checked == 9  # 3 archs x 3 datasets, each compared with its records of all schedules and seeds
    assert "45 records" in result.what
    assert result.mismatches == []
    assert result.max_errors["params (count)"] < 1e-6 and result.max_errors["flops (count)"] < 1e-6

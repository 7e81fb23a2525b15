"""The NB101 network: official parameter counts, channel splitting, FLOPs, stage outputs."""

from __future__ import annotations

import pytest
import torch

from nasproxy_bench.adapters.nb101.network import NB101Network, analytic_flops, vertex_channels
from nasproxy_bench.adapters.nb101.spec import NB101Spec
from nasproxy_bench.complexity import count_flops, count_params
from tests.nb101_fixtures import OFFICIAL_ROWS


def meta_params(matrix, ops) -> int:
    with torch.device("meta"):
        return count_params(NB101Network(matrix, ops))


@pytest.mark.parametrize(("_digest", "matrix", "ops", "official"), OFFICIAL_ROWS)
def test_official_parameter_counts(_digest, matrix, ops, official):
    spec = NB101Spec.create(matrix, ops)
    assert meta_params(spec.matrix, spec.ops) == official


def test_parameter_count_by_hand():
    # input -> maxpool -> maxpool -> output, plus input -> vertex 2: two 1x1 projections per cell
    # (conv weights + BatchNorm scale and offset), stem conv3x3+BN, linear 512->10 with bias.
    def projections(c_in: int, c: int) -> int:
        return 2 * (c_in * c + 2 * c)

    expected = (27 * 128 + 256
                + 3 * projections(128, 128)
                + projections(128, 256) + 2 * projections(256, 256)
                + projections(256, 512) + 2 * projections(512, 512)
                + 512 * 10 + 10)
    _, matrix, ops, official = OFFICIAL_ROWS[0]
    assert expected == official == meta_params(matrix, ops)


def test_channel_splitting():
    # three vertices feed the output: 128 = 43 + 43 + 42; vertex 1 feeds only vertex 2 -> 43
    matrix = [[0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    matrix[1][4] = 1
    assert vertex_channels(64, 128, matrix) == [64, 43, 43, 42, 128]
    assert vertex_channels(64, 128, [[0, 1], [0, 0]]) == [64, 128]


def test_truncation_and_concat_shapes():
    # vertex 1 (43 ch) feeds vertex 3 (42 ch): the extra channel is dropped before the add
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    spec = NB101Spec.create(matrix, ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output"])
    net = NB101Network(spec.matrix, spec.ops, stem_channels=128)
    outs = net.stage_outputs(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape[1:]) for o in outs] == [(128, 32, 32), (256, 16, 16), (512, 8, 8)]
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("row", [0, 1, 2])
def test_closed_form_flops_equal_the_counter(row):
    _, matrix, ops, _ = OFFICIAL_ROWS[row]
    spec = NB101Spec.create(matrix, ops)
    net = NB101Network(spec.matrix, spec.ops, stem_channels=16)
    assert analytic_flops(spec.matrix, spec.ops, stem_channels=16) == count_flops(net, (3, 32, 32))


def test_input_to_output_only_cell():
    # no interior vertex: the cell is the 1x1 projection of its input
    net = NB101Network([[0, 1], [0, 0]], ["input", "output"], stem_channels=8)
    assert net(torch.randn(1, 3, 32, 32)).shape == (1, 10)
    assert analytic_flops([[0, 1], [0, 0]], ["input", "output"], stem_channels=8) == count_flops(net, (3, 32, 32))

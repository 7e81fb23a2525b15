"""The reference loaders' AnyNet conversion in scripts/nds_protocol_variants.py (hand-counted parameters)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from nasproxy_bench.adapters.nds.arch import AnyNetArch, CellArch
from nasproxy_bench.errors import NasproxyError

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "nds_protocol_variants.py"


@pytest.fixture(scope="module")
def variants():
    spec = importlib.util.spec_from_file_location("nds_protocol_variants", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# stem entry: 1 block of width 8, stride 8, bot_mul 1, num_gs 1; one stage: width 16, stride 2, bot_mul 0.5, num_gs 4
TINY = AnyNetArch.from_net({"block_type": "res_bottleneck_block", "ds": [1, 1], "ws": [8, 16], "ss": [8, 2],
                            "bot_muls": [1.0, 0.5], "num_gs": [1, 4]})


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_loader_reads_num_gs_as_group_width(variants) -> None:
    # stem 3x3 3->12 + BN: 324 + 24 = 348
    # stage from the stem entry (12->8, inner 8, groups 8 // 1 = 8): 1x1 96+16, 3x3 depthwise 72+16, 1x1 64+16, proj 96+16 = 392
    # stage 1 (8->16, inner 8, groups 8 // 4 = 2): 1x1 64+16, 3x3 8*4*9 = 288+16, 1x1 128+32, proj 128+32 = 704
    # head: 16 -> 1 with bias = 17
    assert n_params(variants.LoaderAnyNet(TINY, groups_are_widths=True)) == 348 + 392 + 704 + 17


def test_loader_with_num_gs_as_group_count(variants) -> None:
    # stem-entry stage: 3x3 with 1 group 576+16 (total 896); stage 1: 3x3 with 4 groups 8*2*9 = 144+16 (total 560)
    assert n_params(variants.LoaderAnyNet(TINY, groups_are_widths=False)) == 348 + 896 + 560 + 17


def test_loader_keeps_the_resolution_until_the_strided_stage(variants) -> None:
    model = variants.LoaderAnyNet(TINY, groups_are_widths=True)
    x = torch.zeros(2, 3, 32, 32)
    assert model.stages(model.stem(x)).shape == (2, 16, 16, 16)  # stem and stem-entry stage at stride 1, stage 1 at 2
    assert model(x).shape == (2, 1)


def test_pycls_init_zeroes_biases_and_sets_bn(variants) -> None:
    model = variants.LoaderAnyNet(TINY, groups_are_widths=True)
    assert torch.equal(model.classifier.bias.detach(), torch.zeros(1))
    bn = model.stem[1]
    assert torch.equal(bn.weight.detach(), torch.ones(12)) and torch.equal(bn.bias.detach(), torch.zeros(12))


def test_variant_that_does_not_apply_is_a_one_line_error(variants) -> None:
    with pytest.raises(NasproxyError, match="does not apply to AnyNetArch"):
        variants.build_variant(TINY, "cifar-stem", torch.nn.Identity())
    cell = CellArch.from_net({"genotype": {"normal": [["skip_connect", 0], ["skip_connect", 1]], "normal_concat": [2],
                                           "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1]], "reduce_concat": [2]},
                              "width": 8, "depth": 3, "aux": False})
    with pytest.raises(NasproxyError, match="does not apply to CellArch"):
        variants.build_variant(cell, "fbnas", torch.nn.Identity())


def test_gaussian_batches_replace_only_the_images(variants) -> None:
    from nasproxy_bench.inputs import Batch

    batch = Batch(torch.zeros(4, 3, 8, 8), torch.arange(4), "cifar100", True, 0)
    first = variants.gaussian_batches([batch], seed=3)[0]
    again = variants.gaussian_batches([batch], seed=3)[0]
    other = variants.gaussian_batches([batch], seed=4)[0]
    assert first.x.shape == batch.x.shape and torch.equal(first.x, again.x) and not torch.equal(first.x, other.x)
    assert torch.equal(first.y, batch.y) and first.source == "N(0, 1) noise"
    assert abs(first.x.std().item() - 1.0) < 0.2  # 768 draws of N(0, 1)


def test_loader_stage_outputs_are_gennas_head_inputs(variants) -> None:
    """The last three stages, read before the last block's ReLU (GenNAS's ResNetSeriesWrapper)."""
    arch = AnyNetArch.from_net({"block_type": "res_bottleneck_block", "ds": [1, 1, 2, 1], "ws": [8, 16, 16, 32],
                                "ss": [8, 1, 2, 2], "bot_muls": [1.0, 0.5, 0.5, 1.0], "num_gs": [1, 4, 4, 8]})
    torch.manual_seed(0)
    net = variants.LoaderAnyNet(arch, groups_are_widths=True).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        outs = net.stage_outputs(x)
        body = net.stages(net.stem(x))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 32, 32), (16, 16, 16), (32, 8, 8)]
    assert (outs[-1] < 0).any()  # pre-ReLU
    assert torch.allclose(torch.relu(outs[-1]), body)

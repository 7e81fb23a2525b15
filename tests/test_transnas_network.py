"""TransNAS-Bench-101 networks: hand-computed parameter counts, output shapes, surrogate inputs, proxies."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from nasproxy_bench.adapters.transnas.arch import MacroArch, MicroArch
from nasproxy_bench.adapters.transnas.benchmark import TNB101MacroBenchmark, TNB101MicroBenchmark
from nasproxy_bench.adapters.transnas.decoders import JigsawNetwork, task_network
from nasproxy_bench.adapters.transnas.inputs import jigsaw_permutations, surrogate_batches
from nasproxy_bench.adapters.transnas.network import BasicBlock, MicroCell, TransNASEncoder
from nasproxy_bench.complexity import count_params
from nasproxy_bench.inputs import _pick, load_images
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.runner import build_model, evaluate
from nasproxy_bench.store import STATUS_OK, STATUS_UNSUPPORTED

BN = 2  # a BatchNorm over c channels has 2c parameters


def test_micro_cell_params_by_hand():
    # 3_13_213, 64 -> 128, stride 2: node1 conv3x3; node2 skip (factorized reduce) + conv3x3;
    # node3 conv1x1 + identity + conv3x3 (edges from node 0 carry the stride and width change)
    conv3_in = 64 * 128 * 9 + BN * 128
    reduce = 2 * (64 * 64) + BN * 128
    conv3 = 128 * 128 * 9 + BN * 128
    conv1_in = 64 * 128 + BN * 128
    expected = conv3_in + reduce + conv3 + conv1_in + 0 + conv3
    assert expected == 386304
    assert count_params(MicroCell(MicroArch.parse("64-41414-3_13_213"), 64, 128, 2)) == expected


def test_basic_block_params_by_hand():
    expected = (64 * 128 * 9 + BN * 128) + (128 * 128 * 9 + BN * 128) + (64 * 128 + BN * 128)
    assert count_params(BasicBlock(64, 128, 2)) == expected
    assert BasicBlock(128, 128, 1).downsample is None


def test_heads_official_and_naslib_sizes():
    encoder = TransNASEncoder(MicroArch.parse("64-41414-1_00_210"))
    official = task_network(encoder, "class_object")
    naslib = task_network(encoder, "class_object", {"class_object": 100})
    assert count_params(naslib) - count_params(official) == 25 * (512 + 1)
    # the NASLib-sized net reproduces NASLib's count for this arch (reference file: 0.929668 M)
    assert count_params(naslib) == 929668


def test_zero_cell_outputs_zeros_and_encoder_stages():
    encoder = TransNASEncoder(MicroArch.parse("64-41414-0_00_000")).eval()
    x = torch.randn(2, 3, 64, 64)
    assert torch.count_nonzero(encoder(x)) == 0
    assert [tuple(o.shape[1:]) for o in encoder.stage_outputs(x)] == [(64, 16, 16), (128, 8, 8), (256, 4, 4), (512, 2, 2)]
    macro = TransNASEncoder(MacroArch.parse("64-1242-basic"))
    assert [tuple(o.shape[1:]) for o in macro.stage_outputs(x)] == [(128, 16, 16), (512, 8, 8)]
    assert macro.output_size(256) == 32


TASK_SHAPES = [
    ("class_scene", (47,)), ("class_object", (75,)), ("room_layout", (9,)), ("segmentsemantic", (17, 256, 256)),
    ("normal", (3, 256, 256)), ("autoencoder", (3, 256, 256)),
]
# macro skeletons with 1 to 4 downsamplings: the dense decoders need 2 to 6 upsamplings
ARCHS = ["64-41414-3_13_213", "64-1242-basic", "64-4441-basic", "64-111123-basic", "64-3434-basic"]


def _output_shape(arch: str, task: str) -> tuple[int, ...]:
    bench = TNB101MicroBenchmark(".") if "41414" in arch else TNB101MacroBenchmark(".")
    with torch.device("meta"):  # shapes only
        return tuple(bench.build(arch, task)(torch.zeros(1, 3, 256, 256)).shape)


@pytest.mark.parametrize("task,shape", TASK_SHAPES)
def test_output_shapes_micro(task, shape):
    assert _output_shape(ARCHS[0], task) == (1, *shape)


@pytest.mark.slow
@pytest.mark.parametrize("task,shape", TASK_SHAPES)
@pytest.mark.parametrize("arch", ARCHS[1:])
def test_output_shapes_macro(task, shape, arch):
    assert _output_shape(arch, task) == (1, *shape)


def test_jigsaw_runs_the_encoder_per_tile():
    with torch.device("meta"):
        net = TNB101MicroBenchmark(".").build("64-41414-3_13_213", "jigsaw")
        assert isinstance(net, JigsawNetwork)
        assert tuple(net(torch.zeros(2, 9, 3, 64, 64)).shape) == (2, 1000)
        assert tuple(net.encode(torch.zeros(2, 9, 3, 64, 64)).shape) == (2, 9 * 512, 2, 2)
    with pytest.raises(ValueError, match="jigsaw input"):
        net.encode(torch.zeros(2, 3, 64, 64, device="meta"))


def test_surrogate_batches_are_seeded_and_shaped(fake_root):
    one = surrogate_batches(fake_root, "segmentsemantic", 0, 3, 1)[0]
    two = surrogate_batches(fake_root, "segmentsemantic", 0, 3, 2)
    assert torch.equal(one.x, two[0].x) and torch.equal(one.y, two[0].y)
    assert one.surrogate and "surrogate" in one.source
    assert one.x.shape == (3, 3, 256, 256) and one.y.shape == (3, 256, 256) and one.y.max() < 17
    other = surrogate_batches(fake_root, "segmentsemantic", 1, 3, 1)[0]
    assert not torch.equal(one.x, other.x)
    auto = surrogate_batches(fake_root, "autoencoder", 0, 2, 1)[0]
    assert torch.equal(auto.x, auto.y) and auto.x.min() >= -1 and auto.x.max() <= 1
    soft = surrogate_batches(fake_root, "class_scene", 0, 2, 1)[0]
    assert soft.y.shape == (2, 47) and torch.allclose(soft.y.sum(1), torch.ones(2))


def test_jigsaw_surrogate_tiles_follow_the_permutation(fake_root):
    batch = surrogate_batches(fake_root, "jigsaw", 0, 2, 1)[0]
    perms = jigsaw_permutations()
    assert len({tuple(p) for p in perms.tolist()}) == 1000
    images, _, _ = load_images(fake_root, "cifar10")
    first = _pick(len(images), 2, 0, "cifar10")[0]
    expected = F.interpolate(torch.from_numpy(images[first : first + 1]).float() / 255, size=(192, 192), mode="bilinear")[0]
    x, label = batch.x[0], int(batch.y[0])
    assert x.shape == (9, 3, 64, 64) and 0 <= label < 1000
    for k, original in enumerate(perms[label].tolist()):  # input tile k is image tile perms[label][k]
        row, col = divmod(original, 3)
        assert torch.allclose(x[k], expected[:, 64 * row : 64 * (row + 1), 64 * col : 64 * (col + 1)])


@pytest.mark.slow
def test_proxies_on_a_dense_task_and_unsupported_epe(fake_root):
    bench = TNB101MicroBenchmark(fake_root)
    ds = bench.dataset("room_layout")
    arch = "64-41414-3_13_213"
    torch.manual_seed(0)
    model = build_model(bench, arch, "room_layout", 0, torch.device("cpu"))
    batches = surrogate_batches(fake_root, "room_layout", 0, 2, 1)
    ctx = ProxyContext(bench, arch, ds, model, batches, 0, torch.device("cpu"), frozenset({"snip", "naswot", "epe_nas"}))
    assert evaluate(get_proxy("snip"), ctx).status == STATUS_OK
    assert evaluate(get_proxy("naswot"), ctx).status == STATUS_OK
    record = evaluate(get_proxy("epe_nas"), ctx)
    assert record.status == STATUS_UNSUPPORTED


@pytest.mark.parametrize("task", ["class_scene", pytest.param("jigsaw", marks=pytest.mark.slow),
                                  pytest.param("segmentsemantic", marks=pytest.mark.slow)])
def test_micro_costs_by_edge_increments_equal_the_direct_count(task):
    from nasproxy_bench.adapters.transnas.benchmark import TNB101MicroBenchmark, network_costs

    bench = TNB101MicroBenchmark(Path("."))
    for arch in ("64-41414-3_33_333", "64-41414-1_02_310", "64-41414-0_00_001", "64-41414-2_13_021"):
        direct = network_costs(bench.name, TNB101MicroBenchmark, arch, task)
        assert bench.arch_costs(arch, task) == pytest.approx(direct, rel=1e-12, abs=1e-9)

"""GenNAS regression evaluation: heads, stage weighting, determinism, no side effects."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from nasproxy_bench.adapters.nb201.network import NB201Network
from nasproxy_bench.benchmark import Dataset, Metric, TaskKind
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.gennas.proxies import score_task, task_spec
from nasproxy_bench.gennas.regression import Regressor, input_scale, param_groups, regression_score, weighted_mse
from nasproxy_bench.gennas.task import TaskError, load_preset, parse_task, task_to_doc
from nasproxy_bench.inputs import Batch
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_UNSUPPORTED
from tests.test_proxies import NoCells

CONV = ("nor_conv_3x3",) * 6


def small_net(seed: int = 0, channels: int = 16, cells: int = 1) -> NB201Network:
    torch.manual_seed(seed)
    return NB201Network(CONV, 10, channels=channels, cells_per_stage=cells)


def short(name: str, iterations: int = 3):
    doc = task_to_doc(load_preset(name))
    doc["training"]["iterations"] = iterations
    return parse_task(doc)


def images(n: int = 16, size: int = 32) -> torch.Tensor:
    return torch.randn(n, 3, size, size, generator=torch.Generator().manual_seed(0))


def test_heads_for_nb201_stages():
    reg = Regressor(small_net(), images(), load_preset("gennas_combo"), seed=0)
    shapes = [(h[0].num_features, h[1].in_channels, h[1].out_channels, h[1].kernel_size) for h in reg.heads]
    assert shapes == [(16, 16, 64, (1, 1)), (32, 32, 64, (1, 1)), (64, 64, 64, (1, 1))]
    outs = reg.net.stage_outputs(reg.images)
    assert [tuple(o.shape[-2:]) for o in outs] == [(32, 32), (16, 16), (8, 8)]
    preds = [reg.heads[i](nn.functional.interpolate(o, size=(8, 8))) for i, o in enumerate(outs)]
    assert all(tuple(p.shape) == (16, 64, 8, 8) for p in preds)
    single = Regressor(small_net(), images(), load_preset("gennas_single"), seed=0)
    assert isinstance(single.heads[0], nn.Identity) and isinstance(single.heads[1], nn.Identity)


def test_stage_weighting_hand_computed():
    targets = [torch.zeros(2, 4, 8, 8)] * 3
    preds = {0: torch.full((2, 4, 8, 8), 2.0), 1: torch.ones(2, 4, 8, 8), 2: torch.full((2, 4, 8, 8), 3.0)}
    # MSEs 4, 1, 9 weighted 1/4, 1/2, 1: 1 + 0.5 + 9
    assert float(weighted_mse(preds, targets, (0.25, 0.5, 1.0))) == pytest.approx(10.5)
    assert float(weighted_mse({2: preds[2]}, targets, (0.25, 0.5, 1.0))) == pytest.approx(9.0)


def test_input_scale_for_small_inputs():
    assert input_scale([32, 16, 8]) == 1
    assert input_scale([16, 8, 4]) == 2  # ImageNet16-120: 16x16 inputs, upsampled like the public code
    reg = Regressor(small_net(), images(4, 16), short("gennas_single", 1), seed=0)
    assert tuple(reg.images.shape[-2:]) == (32, 32)


def test_weight_decay_only_on_weight_matrices():
    decay, no_decay = param_groups([nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 4, 1))], 4e-5)
    assert [tuple(p.shape) for p in decay["params"]] == [(4, 3, 1, 1)] and decay["weight_decay"] == 4e-5
    assert len(no_decay["params"]) == 3 and no_decay["weight_decay"] == 0.0


def test_deterministic_per_seed_and_seed_sensitive():
    task = short("gennas_combo", 2)
    a = regression_score(small_net(channels=4), images(), task, seed=0)
    b = regression_score(small_net(channels=4), images(), task, seed=0)
    c = regression_score(small_net(channels=4), images(), task, seed=1)
    assert a == b
    assert a != c


def test_training_lowers_the_loss():
    task0, task = short("gennas_single", 0), short("gennas_single", 10)
    untrained = regression_score(small_net(channels=4), images(), task0, seed=0)
    trained = regression_score(small_net(channels=4), images(), task, seed=0)
    assert trained < untrained


def test_proxy_leaves_ctx_model_untouched():
    model = small_net()
    before = copy.deepcopy(model.state_dict())
    dataset = Dataset("cifar10", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (Metric("acc", "higher"),), "acc")
    batch = Batch(images(20), torch.zeros(20, dtype=torch.long), "test", False, 0)
    ctx = ProxyContext(None, "arch", dataset, model, [batch], 0, torch.device("cpu"))
    value = score_task(short("gennas_combo", 1), ctx)
    assert value > 0
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    small = ProxyContext(None, "arch", dataset, model, [Batch(images(8), torch.zeros(8), "t", False, 0)], 0, torch.device("cpu"))
    with pytest.raises(ValueError, match="batch-size >= 16"):
        score_task(short("gennas_combo", 1), small)


def test_non_staged_network_is_unsupported():
    with pytest.raises(UnsupportedNetwork):
        Regressor(nn.Conv2d(3, 3, 1), images(), load_preset("gennas_single"), seed=0)


def test_eval_curve_ends_at_the_score():
    task = short("gennas_combo", 4)
    score = regression_score(small_net(channels=4), images(), task, seed=0)
    curve = Regressor(small_net(channels=4), images(), task, seed=0).train(eval_every=2)
    assert len(curve) == 2 and curve[-1] == score  # no input noise: checks do not change the run


def test_batchnorm_momentum_is_the_public_codes_default_during_regression():
    # NB101's official BN momentum (PyTorch 0.003) would leave the eval-mode running statistics
    # near their initial values after a few iterations; the regression uses PyTorch's 0.1 on its copy
    def slow_net() -> NB201Network:
        net = small_net()
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 0.003
        return net

    task = short("gennas_combo", 5)
    reg = Regressor(slow_net(), images(), task, seed=0)
    assert {m.momentum for m in reg.net.modules() if isinstance(m, nn.BatchNorm2d)} == {0.1}
    assert regression_score(slow_net(), images(), task, 0) == regression_score(small_net(), images(), task, 0)


class Widths(NoCells):
    """A space whose width-``c`` network is a 1-cell NB201 net at c channels; records the widths asked for."""

    name = "widths"

    def __init__(self) -> None:
        super().__init__(".")
        self.asked: list[int] = []

    def build_with_width(self, arch, dataset, *, channels):
        self.asked.append(channels)
        return NB201Network(CONV, 10, channels=channels, cells_per_stage=1)


def test_a_task_with_a_network_width_trains_that_width_and_other_spaces_say_unsupported():
    dataset = Dataset("cifar10", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (Metric("acc", "higher"),), "acc")
    batch = Batch(images(16), torch.zeros(16, dtype=torch.long), "test", False, 0)
    doc = task_to_doc(short("gennas_single_w16", 2))
    doc["network"]["channels"] = 4
    task = parse_task(doc)
    bench = Widths()
    own = small_net(channels=8)  # the benchmark's own network: a width-4 task must not train it
    ctx = ProxyContext(bench, "arch", dataset, own, [batch], 3, torch.device("cpu"))
    value = score_task(task, ctx)
    assert bench.asked == [4]
    # the width-4 network, initialised as ProxyContext.model_with_width does (run seed 3, repeat 0)
    torch.manual_seed(3 * 1_000_003)
    expected = regression_score(NB201Network(CONV, 10, channels=4, cells_per_stage=1), images(16), task, seed=3)
    assert value == expected and value != score_task(short("gennas_single", 2), ctx)
    record = evaluate(get_proxy("gennas_single_w16"), ProxyContext(NoCells("."), "a", dataset, own, [batch], 0, torch.device("cpu")))
    assert record.status == STATUS_UNSUPPORTED and "build_with_width" in record.message


def test_nb201_width_16_is_the_benchmark_network_and_narrower_widths_scale_every_stage():
    from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark

    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"
    bench = NB201Benchmark.__new__(NB201Benchmark)  # network building needs no table
    bench.data_root = None
    native, same = bench.build(arch, "cifar10"), bench.build_with_width(arch, "cifar10", channels=16)
    assert {k: v.shape for k, v in native.state_dict().items()} == {k: v.shape for k, v in same.state_dict().items()}
    narrow = bench.build_with_width(arch, "cifar10", channels=8)
    assert [o.shape[1] for o in narrow.stage_outputs(torch.zeros(1, 3, 32, 32))] == [8, 16, 32]


def _nb201_without_table():
    from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark

    bench = NB201Benchmark.__new__(NB201Benchmark)  # network building needs no table
    bench.data_root = None
    return bench


def test_nb201_cell_batch_stats_variant_changes_only_the_cell_batchnorms():
    from nasproxy_bench.adapters.nb201.network import Cell

    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    bench = _nb201_without_table()
    torch.manual_seed(5)
    native = bench.build(arch, "cifar10")
    torch.manual_seed(5)
    variant = bench.build_variant(arch, "cifar10", cell_bn="batch_stats")
    in_cells = {id(m) for c in variant.modules() if isinstance(c, Cell) for m in c.modules() if isinstance(m, nn.BatchNorm2d)}
    bns = [m for m in variant.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(in_cells) == 15 * 3  # 15 cells x 3 convolution edges
    for m in bns:
        assert (m.affine, m.track_running_stats) == ((False, False) if id(m) in in_cells else (True, True))
    # same draws for every convolution and the classifier: BatchNorm initialisation uses no random numbers
    conv = {k: v for k, v in native.state_dict().items() if v.dim() > 1}
    assert all(torch.equal(v, variant.state_dict()[k]) for k, v in conv.items())
    assert bench.build_variant(arch, "cifar10").state_dict().keys() == native.state_dict().keys()
    variant.eval()  # eval mode: a batch-statistics BatchNorm still normalises with the batch, the standard one with its running stats
    x = 5.0 + 2.0 * torch.randn(8, 16, 4, 4, generator=torch.Generator().manual_seed(1))
    cell_bn = next(m for m in bns if id(m) in in_cells and m.num_features == 16)
    stem_bn = variant.stem[1]
    assert cell_bn(x).mean().abs() < 1e-5 and abs(cell_bn(x).var().item() - 1.0) < 0.01
    assert torch.allclose(stem_bn(x), x / (1 + stem_bn.eps) ** 0.5)
    with pytest.raises(UnsupportedNetwork, match="cell BatchNorm"):
        bench.build_variant(arch, "cifar10", cell_bn="group")


def test_a_cell_batchnorm_task_trains_the_variant_and_other_spaces_say_unsupported():
    dataset = Dataset("cifar10", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (Metric("acc", "higher"),), "acc")
    batch = Batch(images(16), torch.zeros(16, dtype=torch.long), "test", False, 0)
    doc = task_to_doc(short("gennas_single", 2))
    doc["network"] = {"cell_batchnorm": "batch_stats"}
    task = parse_task(doc)
    assert task.network_cell_bn == "batch_stats" and task.network_channels is None and task.hash != short("gennas_single", 2).hash
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
    bench = _nb201_without_table()
    ctx = ProxyContext(bench, arch, dataset, small_net(), [batch], 3, torch.device("cpu"))
    torch.manual_seed(3 * 1_000_003)  # initialised as ProxyContext.model_variant does (run seed 3, repeat 0)
    expected = regression_score(bench.build_variant(arch, "cifar10", cell_bn="batch_stats"), images(16), task, seed=3)
    assert score_task(task, ctx) == expected
    own = small_net(channels=8)
    record = evaluate(task_spec(task, "cellbn"), ProxyContext(NoCells("."), "a", dataset, own, [batch], 0, torch.device("cpu")))
    assert record.status == STATUS_UNSUPPORTED and "build_variant" in record.message


def test_task_network_field_errors_are_one_line():
    doc = task_to_doc(short("gennas_single", 2))
    for network, message in (({}, "give 'channels' and/or 'cell_batchnorm'"),
                             ({"cell_batchnorm": "group"}, "expected one of standard, batch_stats"),
                             ({"width": 3}, "unknown field 'width'")):
        doc["network"] = network
        with pytest.raises(TaskError, match=message) as info:
            parse_task(doc)
        assert "\n" not in str(info.value)


def test_the_task_layer_lists_the_cell_batchnorms_the_nb201_network_builds():
    from nasproxy_bench.adapters.nb201.network import CELL_BATCHNORMS as BUILT
    from nasproxy_bench.gennas.task import CELL_BATCHNORMS

    assert CELL_BATCHNORMS == BUILT

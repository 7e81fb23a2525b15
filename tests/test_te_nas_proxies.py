"""nlr and ntk_cond by TE-NAS's protocol, synflow_bn against its reference definition (issue #16)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from nasproxy_bench.benchmark import Dataset, Direction, Metric, TaskKind
from nasproxy_bench.inputs import Batch
from nasproxy_bench.proxies.activation import random_patches
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_UNSUPPORTED
from tests.test_proxies import NoCells, context, score


class Resizable(NoCells):
    """A space whose resized copy is a given network; records every build and its arguments."""

    name = "resizable"

    def __init__(self, make: callable) -> None:
        super().__init__(".")
        self.make = make
        self.calls: list[dict] = []
        self.built: list[nn.Module] = []

    def build_resized(self, arch, dataset, **size):
        self.calls.append(size)
        model = self.make()
        self.built.append(copy.deepcopy(model))
        return model


def resizable_context(make, x, *, n_out=1, seed=0):
    ds = Dataset("toy", tuple(x.shape[1:]), n_out, TaskKind.CLASSIFICATION, (Metric("acc", Direction.HIGHER),), "acc")
    bench = Resizable(make)
    batch = Batch(x, torch.zeros(len(x), dtype=torch.long), "toy", False, seed)
    return ProxyContext(bench, "a", ds, nn.Identity(), [batch], seed, torch.device("cpu")), bench


def threshold_net(thresholds: list[float]) -> nn.Module:
    """Units ReLU(±x_centre − t): a 1-D input line cut at the given points, plus a 2-D ReLU TE-NAS does not hook."""
    k = len(thresholds)
    conv = nn.Conv2d(1, k + 1, 3, bias=True)
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[0, 0, 1, 1] = -1.0  # on for x < 0
        for unit, t in enumerate(thresholds, start=1):
            conv.weight[unit, 0, 1, 1] = 1.0  # on for x > t
            conv.bias[unit] = -t
        head = nn.Linear(k + 1, 1)
        head.weight.zero_()
        head.weight[0, 1] = 1.0
        head.bias.fill_(-1.3 - thresholds[0])  # the 2-D ReLU below splits x < 1.3 from x > 1.3 + 2·t1; it is not counted
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), head, nn.ReLU())


def constant_images(values: list[float]) -> torch.Tensor:
    return torch.tensor(values).view(-1, 1, 1, 1).expand(-1, 3, 8, 8).contiguous()


def test_random_patches_are_one_channel_crops_of_the_batch():
    x = torch.arange(2 * 3 * 5 * 6, dtype=torch.float32).view(2, 3, 5, 6)
    patches = random_patches(x, 200, 3, torch.Generator().manual_seed(0))
    assert patches.shape == (200, 1, 3, 3)
    for p in patches[:, 0]:
        start = int(p[0, 0])
        n, rest = divmod(start, 90)
        c, rest = divmod(rest, 30)
        row, col = divmod(rest, 6)
        assert torch.equal(p, x[n, c, row:row + 3, col:col + 3])
    assert len({int(p[0, 0, 0]) for p in patches}) > 50  # positions, channels and images vary


def test_nlr_counts_the_regions_of_a_cut_line_on_teNAS_thin_network():
    # centre values -2 | 0.1 | 0.5 | 3 against cuts at -1, 0 and 1: regions x<-1, 0<x<1, x>1 are hit -> 3
    images = constant_images([-2.0, 0.1, 0.5, 3.0])
    ctx, bench = resizable_context(lambda: threshold_net([-1.0, 1.0]), images)
    assert score("nlr", ctx) == 3.0
    assert bench.calls == [dict(channels=1, cells_per_stage=1, depth=1, stem=False)] * 3  # TE-NAS: C=1, one cell, no stem; 3 repeats
    ctx, _ = resizable_context(lambda: threshold_net([0.2, 1.0, 2.0]), images)  # cuts 0, 0.2, 1, 2: four hit intervals
    assert score("nlr", ctx) == 4.0
    ctx, _ = resizable_context(lambda: threshold_net([-1.0, 1.0]), constant_images([0.1, 0.5]))  # one region only
    assert score("nlr", ctx) == 1.0
    assert get_proxy("nlr").version == "2"


def test_nlr_and_ntk_cond_are_unsupported_without_a_resized_network():
    x = torch.randn(4, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    ctx = context(bn_net(), x, torch.zeros(4, dtype=torch.long), n_out=2)
    for name in ("nlr", "ntk_cond"):
        record = evaluate(get_proxy(name), ctx)
        assert record.status == STATUS_UNSUPPORTED and "build_resized" in record.message, name


def bn_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))


def test_ntk_cond_is_the_mean_over_inits_of_a_loop_of_backward_passes(monkeypatch):
    """Reference: TE-NAS's get_ntk_n written out, one backward per sample through one train-mode forward."""
    monkeypatch.setattr("nasproxy_bench.proxies.gradient.NTK_CHUNK", 3)  # chunks of 3, 3, 1
    x = torch.randn(7, 3, 4, 4, generator=torch.Generator().manual_seed(2))
    ctx, bench = resizable_context(bn_net, x, n_out=2)
    ours = score("ntk_cond", ctx)
    assert bench.calls == [dict(channels=3, cells_per_stage=1)] * 3
    conds = []
    for model in bench.built:  # the three initialisations the proxy saw
        model.train()
        logits = model(x)
        weights = [p for n, p in model.named_parameters() if "weight" in n]  # conv, BN scale, linear
        rows = []
        for i in range(len(x)):
            model.zero_grad()
            logits[i:i + 1].backward(torch.ones_like(logits[i:i + 1]), retain_graph=True)
            rows.append(torch.cat([w.grad.flatten() for w in weights]).double())
        jac = torch.stack(rows)
        eig = torch.linalg.eigvalsh(jac @ jac.T)
        conds.append(float(eig[-1] / eig[0]))
    assert len({round(c, 6) for c in conds}) == 3  # three different initialisations
    assert ours == pytest.approx(sum(conds) / 3, rel=1e-5)
    assert get_proxy("ntk_cond").version == "2" and get_proxy("ntk_cond").direction is Direction.LOWER


def test_resized_models_differ_per_repeat_and_leave_the_global_rng_alone():
    ctx, _ = resizable_context(bn_net, torch.zeros(2, 3, 4, 4))
    state = torch.random.get_rng_state()
    a, b, a_again = (ctx.resized_model(r, channels=3, cells_per_stage=1) for r in (0, 1, 0))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not torch.equal(a[0].weight, b[0].weight) and torch.equal(a[0].weight, a_again[0].weight)


def test_teNAS_probe_networks_have_the_hand_counted_parameters():
    from nasproxy_bench.adapters.nb201.network import ResizedCellNetwork

    conv3 = ["nor_conv_3x3"] * 6
    thin = ResizedCellNetwork(conv3, 10, 1, 1, depth=1, stem=False)
    # 6 edges x (3x3 conv 1->1 + BN 2) + head BN 2 + classifier 1x10+10
    assert sum(p.numel() for p in thin.parameters()) == 6 * (9 + 2) + 2 + 20
    assert thin(torch.randn(4, 1, 3, 3)).shape == (4, 10)
    probe = ResizedCellNetwork(conv3, 10, 3, 1)

    def cell(c):
        return 6 * (9 * c * c + 2 * c)

    def reduction(c):
        return (9 * c * 2 * c + 4 * c) + (9 * 4 * c * c + 4 * c) + 2 * c * c

    expected = (27 * 3 + 6) + cell(3) + reduction(3) + cell(6) + reduction(6) + cell(12) + 24 + (12 * 10 + 10)
    assert sum(p.numel() for p in probe.parameters()) == expected
    with pytest.raises(ValueError, match="depth"):
        ResizedCellNetwork(conv3, 10, 1, 1, depth=6)


def synflow_bn_by_hand(a: float, b: float, c: float, d: float, eps: float = 1e-5) -> tuple[float, float]:
    """Reference synflow (bn=True) on conv[a b] (1x2, pad 1) -> BN (train) -> linear [c d], input 1x1 of ones.

    The conv sees [0 1 0]: outputs (b, a); BN leaves ∓s/√(s²+ε) with s = (a−b)/2; R = (d−c)·s/√(s²+ε).
    Returns (Σ|θ ∂R/∂θ| as the reference sums it, Σ θ ∂R/∂θ with signs).
    """
    s = (a - b) / 2
    root = math.sqrt(s * s + eps)
    dr_ds = (d - c) * eps / root**3
    grads = {"a": dr_ds / 2, "b": -dr_ds / 2, "c": -s / root, "d": s / root}
    values = {"a": a, "b": b, "c": c, "d": d}
    return sum(abs(values[k] * g) for k, g in grads.items()), sum(values[k] * g for k, g in grads.items())


def test_synflow_bn_matches_the_reference_definition_by_hand():
    net = nn.Sequential(nn.Conv2d(1, 1, (1, 2), padding=(0, 1), bias=False), nn.BatchNorm2d(1), nn.Flatten(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[[[-2.0, 1.0]]]]))  # |.| is taken: a = 2, b = 1
        net[3].weight.copy_(torch.tensor([[3.0, -0.5]]))  # c = 3, d = 0.5
    ctx = context(net, torch.zeros(2, 1, 1, 1), torch.zeros(2, dtype=torch.long), n_out=1)
    reference, signed = synflow_bn_by_hand(2.0, 1.0, 3.0, 0.5)
    assert score("synflow_bn", ctx) == pytest.approx(reference, rel=1e-9)
    assert reference == pytest.approx(3.5, rel=1e-4) and signed == pytest.approx(-2.5, rel=1e-4)  # version 1 gave the signed sum
    assert get_proxy("synflow_bn").version == "2"
    assert score("synflow", ctx) == pytest.approx(2 * (2.0 * 0.5 + 1.0 * 3.0))  # BN removed: R = c·b + d·a, Σ|θ ∂R/∂θ| = 2(ad + bc)

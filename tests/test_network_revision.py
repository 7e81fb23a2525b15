"""A benchmark whose networks changed keys its scores apart from the old networks' scores."""

import torch

from nasproxy_bench import registry
from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark
from nasproxy_bench.adapters.transnas.network import BasicBlock
from nasproxy_bench.config import RunConfig
from nasproxy_bench.report import current_groups
from nasproxy_bench.runner import run
from nasproxy_bench.store import Record, ResultStore, RunKey


def test_stored_version_adds_the_revision_for_proxies_that_run_the_network():
    snip, params = registry.get_proxy("snip"), registry.get_proxy("params")
    assert registry.get_benchmark("tnb101_macro").network_revision == 1
    assert registry.stored_version(snip, "tnb101_macro") == f"{snip.version}.net1"
    assert registry.stored_version(params, "tnb101_macro") == params.version  # reads the architecture only
    assert registry.stored_version(snip, "tnb101_micro") == snip.version
    assert registry.stored_version(snip, "someone_elses_space") == snip.version


def test_reports_leave_out_scores_of_the_earlier_networks(tmp_path):
    snip = registry.get_proxy("snip")
    with ResultStore(tmp_path / "s.h5") as store:
        for version, score in ((snip.version, 1.0), (f"{snip.version}.net1", 2.0)):
            store.add(RunKey("tnb101_macro", "class_scene", "snip", version, -1, 8, 0), "64-1234-basic", Record(score, 0.1), {})
    kept = current_groups(ResultStore(tmp_path / "s.h5"))
    assert [(g.key.proxy_version, g.records["64-1234-basic"].score) for g in kept] == [(f"{snip.version}.net1", 2.0)]


def test_a_run_recomputes_scores_of_the_earlier_networks_and_keeps_them(fake_root, tmp_path, monkeypatch):
    store_path = tmp_path / "s.h5"
    l2 = registry.get_proxy("l2_norm")
    archs = registry.open_benchmark("nb201", fake_root).sample(3, 0)
    with ResultStore(store_path) as store:  # scores of the networks before the change
        for arch in archs:
            store.add(RunKey("nb201", "cifar10", "l2_norm", l2.version, 0, 8, 0), arch, Record(-1.0, 0.0), {})
    monkeypatch.setattr(NB201Benchmark, "network_revision", 7)
    run(RunConfig("nb201", "cifar10", ["l2_norm"], n=3, batch_size=8, data_root=fake_root, store=store_path),
        progress=False)
    groups = {g.key.proxy_version: g.records for g in ResultStore(store_path).groups.values()}
    assert sorted(groups) == sorted([l2.version, f"{l2.version}.net7"])
    assert all(r.score == -1.0 for r in groups[l2.version].values())  # kept, not overwritten
    assert sorted(groups[f"{l2.version}.net7"]) == sorted(archs)
    assert all(r.score > 0 for r in groups[f"{l2.version}.net7"].values())  # computed anew


def test_macro_shortcut_batchnorm_normalises_with_eps_1_as_the_official_builder():
    """The official block passes (affine, track_running_stats) positionally, i.e. as eps and momentum."""
    torch.manual_seed(0)
    block = BasicBlock(4, 8, 2).train()
    conv, bn = block.downsample
    assert (bn.eps, bn.momentum) == (1.0, 1.0)
    x = torch.randn(3, 4, 6, 6)
    z = conv(x)
    mean, var = z.mean((0, 2, 3), keepdim=True), z.var((0, 2, 3), unbiased=False, keepdim=True)
    torch.testing.assert_close(block.downsample(x), (z - mean) / torch.sqrt(var + 1.0))
    torch.testing.assert_close(bn.running_mean, mean.flatten())  # momentum 1: the last batch's statistics

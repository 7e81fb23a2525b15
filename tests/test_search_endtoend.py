"""End-to-end search on the synthetic NB201 table with fake proxies whose optimum is known."""

import json
import math

import pytest
import torch

from nasproxy_bench import registry
from nasproxy_bench.adapters.nb201 import NB201Arch
from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark
from nasproxy_bench.benchmark import Direction
from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import NasproxyError, UnknownNameError
from nasproxy_bench.proxies.base import ProxySpec
from nasproxy_bench.runner import run
from nasproxy_bench.search.endtoend import (
    SEARCH_SAMPLE,
    SearchConfig,
    outcomes_path,
    read_outcomes,
    resolve_fitness,
    run_searches,
)
from nasproxy_bench.store import ResultStore, RunKey

TARGET = NB201Arch(("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "nor_conv_3x3", "none"))
SMALL = dict(population=20, tournament=5, cycles=150)


def distance_to_target(ctx) -> float:
    """Edges that differ from TARGET: 0 at the unique optimum; lower is better."""
    ops = NB201Arch.parse(ctx.arch).ops
    return float(sum(a != b for a, b in zip(ops, TARGET.ops, strict=True)))


def nan_unless_first_edge_is_conv(ctx) -> float:
    """NaN for 4/5 of the space; else the number of conv3x3 edges (higher is better)."""
    ops = NB201Arch.parse(ctx.arch).ops
    return ops.count("nor_conv_3x3") if ops[0] == "nor_conv_3x3" else math.nan


class FastNB201(NB201Benchmark):
    """NB201's table, sampling and mutation, with a one-layer stand-in network (the fake proxies read
    only the architecture string), so a search of a few hundred evaluations takes a second."""

    name = "test_nb201_fast"

    def build(self, arch, dataset):
        return torch.nn.Linear(1, 1)


class Interrupted(BaseException):
    """Stands in for a kill: escapes ``evaluate`` like KeyboardInterrupt would."""


@pytest.fixture
def fake_proxies(monkeypatch):
    registry.proxies()  # load built-ins first
    calls = {"n": 0, "stop_after": None}

    def counted(ctx):
        calls["n"] += 1
        if calls["stop_after"] is not None and calls["n"] > calls["stop_after"]:
            raise Interrupted
        return distance_to_target(ctx)

    specs = [
        ProxySpec("test_distance", counted, "structural", "1", Direction.LOWER, needs_data=False),
        ProxySpec("test_nan", nan_unless_first_edge_is_conv, "structural", "1", needs_data=False),
    ]
    for spec in specs:
        monkeypatch.setitem(registry._proxies, spec.name, spec)
    monkeypatch.setitem(registry._benchmarks, FastNB201.name, FastNB201)
    return calls


def config(root, store, fitness="test_distance", seed=0, **settings):
    return SearchConfig(FastNB201.name, "cifar10", fitness, seed=seed, data_root=root, store=store, **{**SMALL, **settings})


def test_re_finds_the_known_optimum_and_reports_its_ground_truth(fake_root, tmp_path, fake_proxies):
    import pandas as pd

    store = tmp_path / "s.h5"
    [(outcome, recorded)] = list(run_searches([config(fake_root, store)]))
    assert not recorded
    assert outcome.found_arch == str(TARGET)
    assert outcome.found_fitness == 0.0  # -(distance 0): the direction turned lower-is-better around
    table = pd.read_csv(fake_root / "benchmarks/nb201/nb201.csv").set_index("arch")
    assert outcome.found_truth == pytest.approx(table.loc[str(TARGET), "cifar10/test_acc"])
    assert outcome.oracle_truth == pytest.approx(table["cifar10/test_acc"].max())
    assert outcome.evaluations == 170
    assert outcome.distinct_archs == outcome.computed == fake_proxies["n"] < 170  # repeats are free
    assert outcome.reused == 0 and outcome.nonfinite == 0
    # every computed score is in the store under the run key of the search sample
    key = RunKey(FastNB201.name, "cifar10", "test_distance", "1", SEARCH_SAMPLE, 64, 0)
    held = ResultStore(store).done(key)
    assert len(held) == outcome.distinct_archs and held[str(TARGET)].score == 0.0
    assert read_outcomes(outcomes_path(store)) == [outcome]


def test_random_search_with_the_same_budget_does_worse_here(fake_root, tmp_path, fake_proxies):
    store = tmp_path / "s.h5"
    configs = [config(fake_root, store, seed=s, algorithm="random") for s in range(3)]
    outcomes = [o for o, _ in run_searches(configs)]
    assert all(o.evaluations == 170 for o in outcomes)
    assert all(o.found_fitness <= -1.0 for o in outcomes)  # P(hitting the optimum) = 170/15625 per search


def test_nan_fitness_ranks_worst_and_is_counted(fake_root, tmp_path, fake_proxies):
    [(outcome, _)] = list(run_searches([config(fake_root, tmp_path / "s.h5", fitness="test_nan")]))
    assert outcome.nonfinite > 0
    assert NB201Arch.parse(outcome.found_arch).ops[0] == "nor_conv_3x3"
    assert outcome.found_fitness == NB201Arch.parse(outcome.found_arch).ops.count("nor_conv_3x3") >= 4
    stored = ResultStore(tmp_path / "s.h5").done(RunKey(FastNB201.name, "cifar10", "test_nan", "1", SEARCH_SAMPLE, 64, 0))
    assert sum(math.isnan(r.score) for r in stored.values()) == outcome.nonfinite  # NaN kept as NaN


def test_an_interrupted_search_resumes_to_the_same_outcome(fake_root, tmp_path, fake_proxies):
    [(whole, _)] = list(run_searches([config(fake_root, tmp_path / "a.h5", seed=3)]))
    fake_proxies.update(n=0, stop_after=40)
    with pytest.raises(Interrupted):
        list(run_searches([config(fake_root, tmp_path / "b.h5", seed=3)]))
    assert not outcomes_path(tmp_path / "b.h5").exists()
    fake_proxies.update(n=0, stop_after=None)
    [(resumed, recorded)] = list(run_searches([config(fake_root, tmp_path / "b.h5", seed=3)]))
    assert not recorded
    assert (resumed.found_arch, resumed.found_fitness, resumed.evaluations, resumed.distinct_archs) == (
        whole.found_arch, whole.found_fitness, whole.evaluations, whole.distinct_archs)
    assert resumed.reused == 40 and resumed.computed == whole.computed - 40 == fake_proxies["n"]
    # a finished search is not run again
    [(again, recorded)] = list(run_searches([config(fake_root, tmp_path / "b.h5", seed=3)]))
    assert recorded and again == resumed and fake_proxies["n"] == whole.computed - 40


def test_search_and_run_share_scores_both_ways(fake_root, tmp_path, fake_proxies):
    store = tmp_path / "s.h5"
    run(RunConfig(FastNB201.name, "cifar10", ["test_distance"], n=300, data_root=fake_root, store=store), progress=False)
    assert fake_proxies["n"] == 300
    [(outcome, _)] = list(run_searches([config(fake_root, store, seed=1)]))
    assert outcome.reused > 0 and outcome.computed + outcome.reused == outcome.distinct_archs
    assert fake_proxies["n"] == 300 + outcome.computed
    # a run over architectures the search visited computes nothing
    visited = list(ResultStore(store).done(RunKey(FastNB201.name, "cifar10", "test_distance", "1", SEARCH_SAMPLE, 64, 0)))
    summary = run(RunConfig(FastNB201.name, "cifar10", ["test_distance"], arch_list=visited, data_root=fake_root, store=store),
                  progress=False)
    assert summary.computed == 0 and fake_proxies["n"] == 300 + outcome.computed


def test_fitness_must_be_one_registered_per_network_proxy(fake_proxies):
    assert resolve_fitness("naswot").name == "naswot"
    with pytest.raises(UnknownNameError, match="unknown proxy 'no_such_proxy'"):
        resolve_fitness("no_such_proxy")
    with pytest.raises(NasproxyError, match="not one per-network proxy"):
        resolve_fitness("vote")  # an ensemble: ranks over a population
    with pytest.raises(NasproxyError, match="not one per-network proxy"):
        resolve_fitness("all")


def test_bad_settings_are_one_line_errors(fake_root, tmp_path, fake_proxies):
    with pytest.raises(NasproxyError, match="tournament"):
        list(run_searches([config(fake_root, tmp_path / "s.h5", tournament=30)]))


def test_outcome_lines_are_json_and_torn_lines_are_skipped(fake_root, tmp_path, fake_proxies):
    store = tmp_path / "s.h5"
    list(run_searches([config(fake_root, store, cycles=10)]))
    path = outcomes_path(store)
    entry = json.loads(path.read_text().splitlines()[0])
    assert entry["fitness"] == "test_distance" and entry["cycles"] == 10
    with open(path, "a") as handle:
        handle.write('{"benchmark": "nb2')  # a kill mid-write
    assert len(read_outcomes(path)) == 1


@pytest.mark.slow
def test_real_nb201_search_with_params_as_fitness_finds_the_largest_cell(shared, tmp_path):
    # params (computed from the built network) has a unique maximum on NB201: every edge conv3x3,
    # 1.53 M parameters, 93.76 % CIFAR-10 test accuracy in the official table.
    cfg = SearchConfig("nb201", "cifar10", "params", seed=1, population=20, tournament=5, cycles=100,
                       data_root=shared, store=tmp_path / "s.h5")
    [(outcome, _)] = list(run_searches([cfg]))
    assert outcome.found_arch == "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    assert outcome.found_truth == pytest.approx(93.76, abs=0.005)
    assert outcome.oracle_truth == pytest.approx(94.37, abs=0.005)


def test_store_lookups_ignore_only_the_sample_seed(tmp_path):
    from nasproxy_bench.store import Record

    run_key = RunKey("nb201", "cifar10", "naswot", "1", 0, 64, 0)
    with ResultStore(tmp_path / "s.h5") as store:
        store.add(run_key, "a", Record(1.5, 0.1), {"device": "cpu"})
        search_key = RunKey("nb201", "cifar10", "naswot", "1", SEARCH_SAMPLE, 64, 0)
        assert store.find(search_key, "a") == (Record(1.5, 0.1), {"device": "cpu"})
        assert store.find(search_key, "b") is None
        for other in (RunKey("nb201", "cifar10", "naswot", "1", SEARCH_SAMPLE, 32, 0),  # batch size
                      RunKey("nb201", "cifar10", "naswot", "1", SEARCH_SAMPLE, 64, 1),  # init seed
                      RunKey("nb201", "cifar10", "naswot", "2", SEARCH_SAMPLE, 64, 0),  # proxy version
                      RunKey("nb201", "cifar100", "naswot", "1", SEARCH_SAMPLE, 64, 0)):
            assert store.find(other, "a") is None
        assert store.adopt(search_key, ["a", "b"]) == 1
        assert store.done(search_key) == {"a": Record(1.5, 0.1)}
        assert store.adopt(search_key, ["a"]) == 0

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from nasproxy_bench import registry
from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.regression import CheckConfig, check, compute, write_baseline
from nasproxy_bench.runner import run
from nasproxy_bench.survey import write_survey


@pytest.fixture(scope="module")
def hw_root(fake_root):
    table = pd.read_csv(fake_root / "benchmarks/nb201/nb201.csv")
    folder = fake_root / "benchmarks/hw_nas_bench"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"index": table["index"], "arch": table["arch"], "fpga/latency_ms": table["cifar10/params_M"] * 10}).to_csv(
        folder / "nb201_cifar10_latency.csv", index=False)
    return fake_root


def _store_scores(store_path, proxy: str) -> pd.Series:
    from nasproxy_bench.store import ResultStore

    groups = [g for g in ResultStore(store_path).groups.values() if g.key.proxy == proxy]
    return pd.Series({a: r.score for a, r in min(groups, key=lambda g: g.key.seed).records.items()})


def test_survey_report_writes_every_table_and_figure(hw_root, tmp_path):
    store = tmp_path / "s.h5"
    run(RunConfig("nb201", "cifar10", ["params", "flops", "vote"], n=80, batch_size=8, data_root=hw_root, store=store),
        progress=False)
    out = tmp_path / "reports"
    page = write_survey(store, hw_root, out)
    text = page.read_text()
    for name in ["fig_correlations_nb201_cifar10", "fig_topx_nb201_cifar10", "fig_pareto_nb201_cifar10_fpga_latency_ms"]:
        assert (out / f"{name}.png").stat().st_size > 1000 and (out / f"{name}.svg").exists()
        assert f"{name}.png" in text
    from scipy.stats import spearmanr

    correlations = pd.read_csv(out / "correlations.csv").set_index("proxy")
    assert {"params", "flops", "synflow", "jacob_cov", "snip", "vote"} <= set(correlations.index)
    assert (correlations["spearman_ci_low"] <= correlations["spearman_mean"]).all()
    assert (correlations["spearman_mean"] <= correlations["spearman_ci_high"]).all()
    # @Top = the sample's members in the top 5% of the WHOLE table (15,625 archs: the 782 best), not of the sample
    table = pd.read_csv(hw_root / "benchmarks/nb201/nb201.csv").set_index("arch")["cifar10/test_acc"]
    threshold = table.sort_values(ascending=False).iloc[781]
    params = _store_scores(store, "params")
    in_top = table.loc[params.index] >= threshold
    assert correlations.loc["params", "n_top"] == in_top.sum() and correlations.loc["params", "top_threshold"] == threshold
    assert correlations.loc["params", "spearman_top_mean"] == pytest.approx(
        spearmanr(params[in_top], table.loc[params.index][in_top])[0], nan_ok=True)
    markdown = (out / "correlations.md").read_text()
    assert f"(n={in_top.sum()}" in markdown and "top 5% of the entire search space" in markdown
    topx = pd.read_csv(out / "topx_nb201_cifar10.csv").set_index(["proxy", "top_percent"])
    threshold30 = table.sort_values(ascending=False).iloc[int(np.ceil(15625 * 0.3)) - 1]
    in30 = table.loc[params.index] >= threshold30
    assert topx.loc[("params", 30), "n"] == in30.sum() and topx.loc[("params", 30), "threshold"] == threshold30
    assert topx.loc[("params", 30), "spearman_mean"] == pytest.approx(spearmanr(params[in30], table.loc[params.index][in30])[0])
    assert topx.loc[("params", 30), "ci_low"] < topx.loc[("params", 30), "spearman_mean"] < topx.loc[("params", 30), "ci_high"]
    assert topx.loc[("params", 30), "seeds"] == 1 and topx.loc[("params", 30), "spearman_std"] == 0.0
    regret = pd.read_csv(out / "regret_nb201_cifar10_fpga_latency_ms.csv")
    assert (regret["regret"] >= 0).all() and set(regret["proxy"]) >= {"params", "vote"}
    # params rises with latency here, so under the loosest budget it picks the costliest network
    retrieval = pd.read_csv(out / "retrieval.csv")
    assert list(retrieval.columns[-6:]) == ["top5%", "top10%", "top20%", "top30%", "top40%", "top50%"]
    assert "best_found.md" in text and "retrieval.md" in text
    # the fidelity table also correlates the CIFAR-10 scores with the cifar10-valid ground truth
    from nasproxy_bench.store import ResultStore

    fidelity = pd.read_csv(out / "fidelity_nb201.csv").set_index("proxy")
    scores = {a: r.score for g in ResultStore(store).groups.values() if g.key.proxy == "params" for a, r in g.records.items()}
    table = pd.read_csv(hw_root / "benchmarks/nb201/nb201.csv").set_index("arch")
    expected = spearmanr(list(scores.values()), table.loc[list(scores), "cifar10-valid/valid_acc"])[0]
    assert fidelity.loc["params", "ours_vs_cifar10_valid"] == pytest.approx(expected, abs=1e-9)


def test_sign_flipped_proxy_fails_the_check(fake_root, tmp_path, monkeypatch):
    config = CheckConfig(proxies=["params", "synflow"], n=40, batch_size=8)
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, config, compute(config, fake_root))
    assert (check(baseline, fake_root)["status"] == "ok").all()

    original = registry.get_proxy("synflow")
    broken = dataclasses.replace(original, fn=lambda ctx: -original.fn(ctx))
    monkeypatch.setitem(registry._proxies, "synflow", broken)
    with pytest.raises(NasproxyError, match=r"synflow .* REGRESSED"):
        check(baseline, fake_root)


def test_check_computes_on_one_torch_thread_and_restores_the_count(fake_root, monkeypatch):
    """A trained proxy's scores depend on the thread count, so check pins it whatever the machine."""
    import torch

    from nasproxy_bench import regression

    seen = []

    def recording_run(config, progress):
        seen.append(torch.get_num_threads())
        return run(config, progress=progress)

    monkeypatch.setattr(regression, "run", recording_run)
    before = torch.get_num_threads()
    with regression.torch_threads(3):
        compute(CheckConfig(proxies=["params"], n=5, batch_size=8), fake_root)
        assert torch.get_num_threads() == 3
    assert seen == [regression.CHECK_THREADS] == [1]
    assert torch.get_num_threads() == before


def test_baseline_keeps_one_entry_per_benchmark_dataset(fake_root, tmp_path):
    from nasproxy_bench.regression import load_baseline

    baseline = tmp_path / "baseline.json"
    first = CheckConfig(proxies=["params"], n=30, batch_size=8)
    write_baseline(baseline, first, {"params": 0.5})
    write_baseline(baseline, CheckConfig(dataset="cifar100", proxies=["params"], n=30, batch_size=8), {"params": 0.4})
    write_baseline(baseline, first, {"params": 0.6})  # replaces, does not append
    entries = load_baseline(baseline)
    assert [(c.dataset, v["params"]) for c, v in entries] == [("cifar10", 0.6), ("cifar100", 0.4)]


def test_committed_baseline_holds(shared):
    """What CI guards: the committed correlations of the fixed check configuration."""
    from tests.conftest import REPO

    # entries in parallel on the machine's cores (each on one thread: the same values as one by one);
    # one by one it took 13.4 minutes of CI's 20 on a 2-core machine
    table = check(REPO / "reports/baseline.json", shared, workers=min(4, os.cpu_count() or 1))
    assert len(table) >= 13 and (table["status"] == "ok").all()


def test_reports_show_only_the_current_version_of_a_proxy(fake_root, tmp_path):
    from nasproxy_bench.report import current_groups, summarize
    from nasproxy_bench.store import Record, ResultStore, RunKey

    store_path = tmp_path / "s.h5"
    run(RunConfig("nb201", "cifar10", ["params"], n=20, batch_size=8, data_root=fake_root, store=store_path), progress=False)
    with ResultStore(store_path) as store:  # scores of an older version of params, and of an unregistered proxy
        for proxy, version in (("params", "0"), ("someone_elses", "3")):
            key = RunKey("nb201", "cifar10", proxy, version, 0, 8, 0)
            for i, arch in enumerate(registry.open_benchmark("nb201", fake_root).sample(20, 0)):
                store.add(key, arch, Record(float(-i), 0.0), {})
    store = ResultStore(store_path)
    assert len(store.groups) == 3
    kept = sorted((g.key.proxy, g.key.proxy_version) for g in current_groups(store))
    assert kept == [("params", registry.get_proxy("params").version), ("someone_elses", "3")]
    summary = summarize(store, fake_root)
    assert sorted(summary["proxy"]) == ["params", "someone_elses"]


def test_topx_curves_average_over_seeds_on_the_space_threshold(tmp_path):
    """Space of 200 archs (truth 0..199), sample = the 100 odd ones; two seeds whose scores rank the
    sample perfectly (+1) and exactly backwards (-1): mean 0, std sqrt(2) at every x. The space's top 10%
    (truth >= 180) holds the 10 sample members 181, 183, ..., 199."""
    from nasproxy_bench.survey import RunScores, topx_curves

    truth = pd.Series(np.arange(200.0), index=[f"a{i}" for i in range(200)], name="acc")
    sample = truth.iloc[1::2]
    run = RunScores("nb201", "cifar10", 0, {"params": sample.copy()}, {"params": [sample.copy(), -sample]})
    paths, table = topx_curves(run, truth, tmp_path)
    table = table.set_index("top_percent")
    assert paths[0].stat().st_size > 1000
    assert (table["spearman_mean"].abs() < 1e-12).all() and np.allclose(table["spearman_std"], np.sqrt(2))
    assert table.loc[10, "threshold"] == 180.0 and table.loc[10, "n"] == 10 and table.loc[50, "n"] == 50
    assert (table["seeds"] == 2).all()

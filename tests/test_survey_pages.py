"""Survey pages: best-found tables (IV, V), hardware figures 18-19 and their substitutes, NATS size-space pages."""

import pickle
import shutil

import numpy as np
import pandas as pd
import pytest

from nasproxy_bench.adapters.nats_sss.arch import NATSSizeArch, enumerate_archs
from nasproxy_bench.best_found import best_found_over_seeds, compare_with_survey
from nasproxy_bench.cli import main
from nasproxy_bench.config import RunConfig
from nasproxy_bench.literature import PublishedValue
from nasproxy_bench.runner import run
from nasproxy_bench.survey import write_survey
from nasproxy_bench.survey_plan import default_plan
from tests.test_nats_sss_import import arch_file, write


def test_best_found_averages_each_seeds_top_pick_by_hand():
    """Space a0..a9 with truth 0..9; sample a2..a7. Seed 0 ranks a5 first (truth 5), seed 1 ranks a7 first
    (truth 7), seed 2 ties a3 and a6 at the top: the first in order, a3 (truth 3). Mean 5, std 2."""
    truth = pd.Series(np.arange(10.0), index=[f"a{i}" for i in range(10)])
    sample = [f"a{i}" for i in range(2, 8)]
    seeds = [pd.Series([0, 1, 2, 9, 3, 4], index=sample, dtype=float),
             pd.Series([0, 1, 2, 3, 4, 9], index=sample, dtype=float),
             pd.Series([0, 9, 2, 3, 9, 1], index=sample, dtype=float)]
    stats = best_found_over_seeds(seeds, truth)
    assert stats["best_found_mean"] == 5.0 and stats["best_found_std"] == pytest.approx(2.0)
    assert (stats["n"], stats["seeds"], stats["sample_best"], stats["space_best"], stats["space_size"]) == (6, 3, 7.0, 9.0, 10)
    # lower-is-better proxy and lower-is-better truth (e.g. an error): signs flip the picks, values stay in units
    low = best_found_over_seeds([-seeds[0]], -truth, score_sign=-1.0, truth_sign=-1.0)
    assert low["best_found_mean"] == -5.0 and low["sample_best"] == -7.0 and low["space_best"] == -9.0  # lowest = best


def test_best_found_skips_nan_scores_and_truth():
    truth = pd.Series([1.0, np.nan, 3.0, 2.0], index=list("abcd"))
    scores = pd.Series([5.0, 9.0, np.nan, 4.0], index=list("abcd"))  # b has no truth, c no score
    stats = best_found_over_seeds([scores], truth)
    assert stats["best_found_mean"] == 1.0 and stats["n"] == 2 and stats["space_size"] == 3


def test_survey_column_holds_only_confirmed_numbers():
    table = pd.DataFrame({"benchmark": ["nb201", "nb201"], "dataset": ["cifar10", "cifar10"], "proxy": ["params", "zico"],
                          "best_found_mean": [93.0, 92.5]})
    out = compare_with_survey(table, {("nb201", "cifar10", "params"): PublishedValue(93.5, "Table IV")}, "unconfirmed")
    assert out["survey"].tolist() == ["93.50", "unconfirmed"] and out["survey_source"].tolist() == ["Table IV", ""]
    assert out["ours_minus_survey"].iloc[0] == pytest.approx(-0.5) and np.isnan(out["ours_minus_survey"].iloc[1])


@pytest.fixture
def hw_root(fake_root, tmp_path):
    """fake_root's NB201 table and inputs, plus a hardware folder each test fills."""
    root = tmp_path / "data"
    (root / "benchmarks").mkdir(parents=True)
    (root / "benchmarks/nb201").symlink_to(fake_root / "benchmarks/nb201")
    (root / "inputs").symlink_to(fake_root / "inputs")
    (root / "benchmarks/hw_nas_bench").mkdir()
    return root


def _nb201_table(root):
    return pd.read_csv(root / "benchmarks/nb201/nb201.csv")


def _survey(root, tmp_path, dataset, proxies=("params", "flops"), n=20, seeds=(0,)):
    store = tmp_path / "s.h5"
    run(RunConfig("nb201", dataset, list(proxies), n=n, seeds=list(seeds), batch_size=8, data_root=root, store=store),
        progress=False)
    out = tmp_path / "survey"
    return write_survey(store, root, out).read_text(), out


@pytest.mark.slow
def test_official_hw_nas_bench_pickle_gives_the_real_fig18(hw_root, tmp_path):
    """A tiny file in the official layout (data['nasbench201'][dataset][metric] = one value per index)."""
    table = _nb201_table(hw_root)
    energy = (table["cifar10/params_M"] * 3 + table["index"] % 7 * 0.01).tolist()
    official = {"nasbench201": {"cifar10": {"edgegpu_energy": energy, "edgegpu_latency": [1.0] * len(table),
                                            "config": [None] * len(table)}}}
    (hw_root / "benchmarks/hw_nas_bench/HW-NAS-Bench-v1_0.pickle").write_bytes(pickle.dumps(official, protocol=4))
    text, out = _survey(hw_root, tmp_path, "cifar10")
    assert "fig18_pareto_nb201_cifar10_edgegpu_energy_mj.png" in text
    fig18 = text.split("### Fig. 18")[1].split("### Fig. 19")[0]
    assert "cost: EdgeGPU (Jetson TX2) energy, HW-NAS-Bench." in fig18 and "substitute" not in fig18
    regret = pd.read_csv(out / "fig18_pareto_nb201_cifar10_edgegpu_energy_mj.csv")
    assert (regret["regret"] >= 0).all() and set(regret["proxy"]) == {"params", "flops"}
    # no NATS-sss table and no HELP latency: Fig. 19 says what it needs
    assert "Fig. 19: not produced" in text and "1080ti_1/latency_ms" in text
    assert "nats_sss.csv is missing" in text and "import nats_sss --source <NATS-sss-v1_0-50262-simple folder>" in text


@pytest.mark.slow
def test_substitutes_are_labelled_on_fig18_and_fig19(hw_root, tmp_path):
    table = _nb201_table(hw_root)
    params = table["cifar100/params_M"]
    rows = [{"arch_idx": i, "rep_arch_idx": i, "device": "pi5", "framework": "litert", "lat_ms_median": 1.0 + p,
             "energy_mj": 2.0 + 10 * p, "accuracy": 0.0, "status": "ok"} for i, p in zip(table["index"], params, strict=True)]
    pd.DataFrame(rows).to_csv(hw_root / "benchmarks/hw_nas_bench/nb201_cifar100_pi5_pixel_hwnasbench360.csv.gz", index=False)
    help_table = pd.DataFrame({"index": table["index"], "arch": table["arch"], "1080ti_1/latency_ms": 5 + table["cifar10/params_M"]})
    help_table.to_csv(hw_root / "benchmarks/hw_nas_bench/nb201_help_device_latency.csv", index=False)
    store = tmp_path / "s.h5"
    for dataset in ("cifar10", "cifar100"):
        run(RunConfig("nb201", dataset, ["params", "flops"], n=30, batch_size=8, data_root=hw_root, store=store), progress=False)
    text = write_survey(store, hw_root, tmp_path / "survey").read_text()
    assert "fig18_pareto_nb201_cifar100_pi5-litert_energy_mj.png" in text
    assert "fig19_pareto_nb201_cifar10_1080ti_1_latency_ms.png" in text
    assert text.count("(**substitute**)") == 2 and "in place of" not in text  # the long label is on the figures
    assert "substitutes the survey's EdgeGPU (Jetson TX2) energy" in text
    assert "substitutes the survey's GTX1080 latency recorded in NATS-Bench, size space" in text


@pytest.fixture
def nats_root(fake_root, tmp_path):
    """NATS-sss imported from 60 records in the official format; accuracy and latency rise with width."""
    source = tmp_path / "NATS-sss-v1_0-50262-simple"
    rng = np.random.default_rng(0)
    for index in sorted(rng.choice(32768, 60, replace=False).tolist()):
        arch = NATSSizeArch.from_index(index)
        width = sum(arch.channels)
        record = arch_file(index, str(arch), schedules=("90",), base=40.0 + width / 10 + rng.normal())
        for results in record["90"]["all_results"].values():
            results["latency"] = [0.001 + width / 1e5]
        write(source / f"{index:06d}.pickle.pbz2", record)
    write(source / "meta.pickle.pbz2", {"meta_archs": enumerate_archs(), "total_archs": 32768})
    root = tmp_path / "data"
    shutil.copytree(fake_root / "inputs", root / "inputs")
    assert main(["import", "nats_sss", "--source", str(source), "--data-root", str(root)]) == 0
    return root


@pytest.mark.slow
def test_imported_nats_records_produce_figs_8_9_14_19_and_table_iv(nats_root, tmp_path):
    assert default_plan(nats_root, tmp_path / "s.h5").missing == []
    store = tmp_path / "s.h5"
    run(RunConfig("nats_sss", "cifar10", ["params", "flops"], n=40, seeds=[0, 1], batch_size=8, data_root=nats_root,
                  store=store), progress=False)
    out = tmp_path / "survey"
    text = write_survey(store, nats_root, out).read_text()
    assert "Survey Figs. 8 (@All) and 9 (@Top5%)" in text and "Survey Fig. 14" in text
    assert (out / "fig_correlations_nats_sss_cifar10.png").stat().st_size > 1000
    assert (out / "fig_topx_nats_sss_cifar10.png").stat().st_size > 1000
    assert "cost: GTX1080 latency recorded in NATS-Bench, size space." in text
    assert "fig19_pareto_nats_sss_cifar10_nats_latency_ms.png" in text
    assert "nats_sss.csv is missing" not in text
    best = pd.read_csv(out / "best_found.csv").set_index("proxy")
    truth = pd.read_csv(nats_root / "benchmarks/nats_sss/nats_sss.csv").set_index("arch")["cifar10/test_acc"]
    assert best.loc["params", "survey_table"] == "Table IV" and best.loc["params", "seeds"] == 2
    assert best.loc["params", "space_best"] == truth.max() and best.loc["params", "n"] == 40
    assert "Table IV: nats_sss / cifar10" in (out / "best_found.md").read_text()


def test_plan_without_nats_table_names_the_file(fake_root, tmp_path):
    plan = default_plan(fake_root, tmp_path / "s.h5", nb201_n=10, seeds=(0, 1), tnb_n=3)
    assert [(c.benchmark, c.dataset, c.n, c.seeds) for c in plan.runs] == [
        ("nb201", "cifar10", 10, [0, 1]), ("nb201", "cifar100", 10, [0, 1]),
        ("tnb101_micro", "segmentsemantic", 3, [0]), ("tnb101_micro", "autoencoder", 3, [0]), ("tnb101_micro", "normal", 3, [0])]
    assert len(plan.missing) == 1 and "benchmarks/nats_sss/nats_sss.csv is missing" in plan.missing[0]
    assert default_plan(fake_root, tmp_path / "s.h5", nb201_n=0, tnb_n=0).runs == []


def test_survey_without_a_store_and_nothing_to_run_says_so(fake_root, tmp_path, capsys):
    args = ["survey", "--no-run", "--data-root", str(fake_root), "--store", str(tmp_path / "none.h5"),
            "--reports", str(tmp_path / "out")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "none.h5" in err
    assert not (tmp_path / "out").exists()


def test_a_seed_still_under_way_is_left_out_of_the_survey(fake_root, tmp_path):
    """Seed 0 holds 12 archs, seed 1 only 5 (a run stopped mid-way): the survey averages seed 0 alone."""
    from nasproxy_bench.report import complete_seeds, summarize
    from nasproxy_bench.store import ResultStore

    store = tmp_path / "s.h5"
    run(RunConfig("nb201", "cifar10", ["params"], n=12, seeds=[0], batch_size=8, data_root=fake_root, store=store), progress=False)
    run(RunConfig("nb201", "cifar10", ["params"], n=5, seeds=[1], batch_size=8, data_root=fake_root, store=store), progress=False)
    groups = list(ResultStore(store).groups.values())
    assert sorted(len(g.records) for g in groups) == [5, 12]
    assert [g.key.seed for g in complete_seeds(groups)] == [0]
    full = summarize(ResultStore(store), fake_root, complete_seeds_only=True).iloc[0]
    assert (full["seeds"], full["n"]) == ("0", 12)
    assert summarize(ResultStore(store), fake_root).iloc[0]["seeds"] == "0,1"  # plain report keeps both


def test_captions_give_the_range_when_proxies_of_a_run_differ_in_n_and_seeds(fake_root, tmp_path):
    """params on 12 archs with seeds 0 and 1, flops on the first 5 with seed 0: no caption may claim one n or one seed set."""
    store = tmp_path / "s.h5"
    run(RunConfig("nb201", "cifar10", ["params"], n=12, seeds=[0, 1], batch_size=8, data_root=fake_root, store=store), progress=False)
    run(RunConfig("nb201", "cifar10", ["flops"], n=5, seeds=[0], batch_size=8, data_root=fake_root, store=store), progress=False)
    text = write_survey(store, fake_root, tmp_path / "out").read_text()
    caption = next(line for line in text.splitlines() if line.startswith("Survey Fig. 6") or "Measures: KT and SPR" in line)
    assert "n=5–12 sampled architectures (each proxy's n in the correlation table)" in caption
    assert "seeds 0 (1 proxy); 0,1 (1 proxy)" in caption
    assert "n=12 sampled" not in text and "n=5 sampled" not in text
    best = (tmp_path / "out" / "best_found.md").read_text()
    assert "n=5–12 per proxy evaluated of 15625, 1–2 seeds" in best


def test_captions_keep_one_n_when_every_proxy_has_it(fake_root, tmp_path):
    store = tmp_path / "s.h5"
    run(RunConfig("nb201", "cifar10", ["params", "flops"], n=6, seeds=[0], batch_size=8, data_root=fake_root, store=store),
        progress=False)
    text = write_survey(store, fake_root, tmp_path / "out").read_text()
    assert "over all n=6 sampled architectures and" in text and "; seeds 0 (mean" in text

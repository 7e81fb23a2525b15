"""run/report on nats_sss: without the accuracy table (scores stored, plain note) and with a fake one."""

import random

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasproxy_bench.adapters.nats_sss import NATSSizeArch, NATSSizeBenchmark
from nasproxy_bench.cli import main
from nasproxy_bench.errors import DataError, MissingGroundTruth
from nasproxy_bench.store import ResultStore
from tests.conftest import write_cifar_batch

IMPORT_COMMAND = "nasproxy-bench import nats_sss --source <NATS-sss-v1_0-50262-simple folder>"


def test_run_without_table_scores_and_stores_and_report_explains(fake_root, tmp_path, capsys):
    store, reports = tmp_path / "s.h5", tmp_path / "reports"
    common = ["--data-root", str(fake_root), "--store", str(store), "--reports", str(reports)]
    assert main(["run", "--benchmark", "nats_sss", "--dataset", "cifar10", "--proxies", "params,synflow", "--n", "8",
                 "--no-progress", *common]) == 0
    out = capsys.readouterr().out
    assert "nats_sss/cifar10: 16 scores computed" in out
    assert "note: nats_sss has no accuracy table here" in out and IMPORT_COMMAND in out
    groups = {g.key.proxy: g for g in ResultStore(store).groups.values()}
    assert set(groups) == {"params", "synflow"}
    sample = NATSSizeBenchmark(fake_root).sample(8, 0)
    assert sorted(groups["params"].records) == sorted(sample)
    assert all(r.status == "ok" and np.isfinite(r.score) for g in groups.values() for r in g.records.values())

    assert main(["report", *common]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: nats_sss has no accuracy table here") and IMPORT_COMMAND in err
    assert len(err.splitlines()) == 1

    # a store that also holds NB201 runs: NB201 is correlated, nats_sss is named as not correlatable
    assert main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "params", "--n", "5",
                 "--no-progress", *common]) == 0
    assert "note: nats_sss has no accuracy table" in capsys.readouterr().out
    text = (reports / "correlations.md").read_text()
    assert "## nb201 / cifar10" in text and "## nats_sss / cifar10: no correlations" in text and IMPORT_COMMAND in text
    assert set(pd.read_csv(reports / "correlations.csv")["benchmark"]) == {"nb201"}


@pytest.mark.slow
def test_full_report_of_a_mixed_store_skips_nats_sss_plainly(fake_root, tmp_path, capsys):
    store, reports = tmp_path / "s.h5", tmp_path / "reports"
    common = ["--data-root", str(fake_root), "--store", str(store), "--reports", str(reports), "--no-progress"]
    for bench in ("nats_sss", "nb201"):
        assert main(["run", "--benchmark", bench, "--dataset", "cifar10", "--proxies", "params", "--n", "5", *common]) == 0
    capsys.readouterr()
    assert main(["report", *common[:-1]]) == 0
    assert "note: nats_sss has no accuracy table" in capsys.readouterr().out
    assert "nats_sss / cifar10: scores stored, no correlations" in (reports / "index.md").read_text()
    assert (reports / "fig_correlations_nb201_cifar10.png").is_file()
    assert not (reports / "fig_correlations_nats_sss_cifar10.png").exists()


def test_ground_truth_and_costs_name_the_import_command(tmp_path):
    bench = NATSSizeBenchmark(tmp_path)
    for call in (lambda: bench.ground_truth("cifar10"), lambda: bench.costs("cifar100")):
        with pytest.raises(MissingGroundTruth, match="create it with 'nasproxy-bench import nats_sss"):
            call()
    assert bench.hardware_costs("cifar10") is None


@pytest.fixture(scope="module")
def table_root(tmp_path_factory):
    """A data root with a fake 400-architecture table: accuracy rises with total width, plus noise."""
    root = tmp_path_factory.mktemp("sss")
    rng = random.Random(0)
    rows = []
    for index in sorted(rng.sample(range(32768), 400)):
        arch = NATSSizeArch.from_index(index)
        width = sum(arch.channels)
        row = {"index": index, "arch": str(arch)}
        for ds, base in (("cifar10", 60.0), ("cifar100", 30.0), ("ImageNet16-120", 15.0)):
            row[f"{ds}/test_acc"] = base + width / 10 + rng.gauss(0, 1.0)
            row[f"{ds}/latency_s"] = 0.01 + width / 20000
        rows.append(row)
    path = root / "benchmarks/nats_sss/nats_sss.csv"
    path.parent.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    for i in range(1, 6):
        write_cifar_batch(root / f"inputs/cifar-10-batches-py/data_batch_{i}", 40, "labels", 10, seed=i)
    return root


def test_run_and_report_with_a_table_correlate_like_nb201(table_root, tmp_path):
    store, reports = tmp_path / "s.h5", tmp_path / "reports"
    common = ["--data-root", str(table_root), "--store", str(store), "--reports", str(reports)]
    assert main(["run", "--benchmark", "nats_sss", "--dataset", "cifar10", "--proxies", "params,nn_mass", "--n", "60",
                 "--no-progress", *common]) == 0
    table = pd.read_csv(reports / "correlations.csv").set_index("proxy")
    with h5py.File(store) as h5:
        group = h5["nats_sss/cifar10/params/v1/sample0/bs64-seed0"]
        archs, scores = group["arch"].asstr()[()], group["score"][()]
    truth = pd.read_csv(table_root / "benchmarks/nats_sss/nats_sss.csv").set_index("arch").loc[archs, "cifar10/test_acc"]
    assert set(archs) <= set(NATSSizeBenchmark(table_root).archs()) and len(archs) == 60
    assert table.loc["params", "spearman_mean"] == pytest.approx(stats.spearmanr(scores, truth).statistic)
    assert table.loc["params", "spearman_mean"] > 0.6  # params grow with width, and so does the fake accuracy
    assert table.loc["nn_mass", "n"] == 60


@pytest.mark.slow
def test_report_with_a_table_draws_the_latency_pareto(table_root, tmp_path):
    common = ["--data-root", str(table_root), "--store", str(tmp_path / "s.h5"), "--reports", str(tmp_path / "r")]
    assert main(["run", "--benchmark", "nats_sss", "--dataset", "cifar10", "--proxies", "params", "--n", "20",
                 "--no-progress", *common]) == 0
    assert main(["report", *common]) == 0
    assert (tmp_path / "r/fig19_pareto_nats_sss_cifar10_nats_latency_ms.png").is_file()  # the survey's Fig. 19
    assert "fig19_pareto_nats_sss_cifar10_nats_latency_ms.csv" in (tmp_path / "r/index.md").read_text()


def test_hardware_costs_expose_the_official_latency_in_ms(table_root):
    bench = NATSSizeBenchmark(table_root)
    costs = bench.hardware_costs("cifar100")
    arch = bench.archs()[0]
    width = sum(bench.parse(arch).channels)
    assert list(costs.columns) == ["nats/latency_ms"]
    assert costs.loc[arch, "nats/latency_ms"] == pytest.approx((0.01 + width / 20000) * 1000)


def test_mutate_stays_inside_a_partial_table(table_root):
    bench = NATSSizeBenchmark(table_root)
    known = set(bench.archs())
    rng = random.Random(1)
    moved = 0
    for arch in list(known)[:100]:
        try:
            child = bench.mutate(arch, rng)
        except DataError as exc:  # an architecture with no neighbour in the table says so
            assert "no neighbour of" in str(exc)
            continue
        assert child in known and child != arch
        moved += 1
    assert moved > 0

"""run --all: plan by the data present, cost printed first, missing spaces listed with commands, heatmap written."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from nasproxy_bench.cli import main
from nasproxy_bench.config import RunConfig
from nasproxy_bench.overview import spr_matrix
from nasproxy_bench.registry import benchmarks
from nasproxy_bench.run_all import ALL_DEFAULT_PROXIES, AllPlan, Task, cost_lines, plan_all
from nasproxy_bench.store import ResultStore


def all_configs(root: Path, **extra) -> list[RunConfig]:
    return [RunConfig(name, ds, ["all"], n=4, data_root=root, **extra) for name, cls in sorted(benchmarks().items())
            for ds in cls.datasets]


def test_plan_covers_every_registered_dataset_once(fake_root):
    configs = all_configs(fake_root)
    plan = plan_all(configs, fake_root, proxies_given=False, batch_given=False)
    planned = {(t.config.benchmark, t.config.dataset) for t in plan.tasks}
    missing = {(m.benchmark, m.dataset) for m in plan.missing}
    left_out = {(b, d) for b, d, _ in plan.left_out}
    assert planned | missing | left_out == {(c.benchmark, c.dataset) for c in configs}
    assert not planned & missing and not planned & left_out and not missing & left_out
    # the fake root has the NB201 table and CIFAR inputs; NATS-SSS architectures need no file but have no accuracies here
    assert {b for b, _ in planned} == {"nb201", "nats_sss"}
    assert all(t.note.startswith("architectures only, scored without correlations: nats_sss has no accuracy table")
               for t in plan.tasks if t.config.benchmark == "nats_sss")
    assert all(t.config.proxies == list(ALL_DEFAULT_PROXIES) and t.n_archs == 4 for t in plan.tasks)
    nb101 = next(m for m in plan.missing if m.benchmark == "nb101")
    assert nb101.command.startswith("nasproxy-bench data download nb101")
    assert next(m for m in plan.missing if m.benchmark == "nds_darts").command.startswith("nasproxy-bench data download nds ")


def test_space_defaults_apply_only_where_the_user_gave_nothing(shared):
    configs = [c for c in all_configs(shared) if c.benchmark in ("tnb101_micro", "nds_darts", "nbnlp")]
    plan = plan_all(configs, shared, proxies_given=False, batch_given=False)
    by_task = {(t.config.benchmark, t.config.dataset): t.config for t in plan.tasks}
    assert by_task[("tnb101_micro", "jigsaw")].batch_size == 8 and "naswot" not in by_task[("tnb101_micro", "jigsaw")].proxies
    left_out = {(b, d) for b, d, _ in plan.left_out}
    assert {("nds_darts", "imagenet"), ("nds_darts", "imagenet-64")} <= left_out and ("nds_darts", "imagenet-32") in by_task
    assert by_task[("nbnlp", "ptb")].proxies == ["params", "l2_norm", "grad_norm"]
    assert ("nbnlp", "wikitext2") in {(m.benchmark, m.dataset) for m in plan.missing}  # no WikiText-2 text here
    given = plan_all(configs, shared, proxies_given=True, batch_given=True)
    assert all(t.config.proxies == ["all"] and t.config.batch_size == 64 for t in given.tasks)


@pytest.mark.slow  # every registered benchmark is planned and probed: ~20-60 s on the shared CPU
def test_run_all_prints_cost_first_then_scores_reports_and_lists_missing_data(fake_root, tmp_path, capsys):
    store, reports = tmp_path / "s.h5", tmp_path / "reports"
    code = main(["run", "--all", "--n", "6", "--proxies", "params,flops", "--data-root", str(fake_root), "--store", str(store),
                 "--reports", str(reports), "--no-progress"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.index("cost estimate") < out.index("nb201/cifar10: 12 scores computed")
    assert "total: 7 tasks, 42 architectures, 84 scores" in out  # NB201 x 4 and NATS-SSS x 3 datasets
    assert re.search(r"nats_sss/cifar10: 12 scores computed, 0 architectures already stored, 0 proxy errors \(\d+ s\); "
                     "note: architectures only", out)
    assert "not run, data missing here:" in out and "nasproxy-bench data download nds " in out
    groups = ResultStore(store).groups.values()
    nb201 = ("cifar10", "cifar100", "ImageNet16-120", "cifar10-valid")
    assert {(g.key.benchmark, g.key.dataset, g.key.proxy) for g in groups} == {
        (b, d, p) for b, ds in (("nb201", nb201), ("nats_sss", nb201[:3])) for d in ds for p in ("params", "flops")}
    matrix = pd.read_csv(reports / "overview_spr.csv", index_col=0)  # NATS-SSS has no ground truth: not a column
    assert list(matrix.index) == ["flops", "params"] and list(matrix.columns) == [f"nb201/{d}" for d in nb201]
    assert matrix.notna().all().all() and (reports / "overview_spr.png").stat().st_size > 0
    assert (reports / "correlations.md").exists()


def test_cost_lines_multiply_archs_by_seconds_and_divide_by_workers():
    tasks = [Task(RunConfig("nb201", "cifar10", ["params", "synflow"]), 100, per_arch_s=0.6),
             Task(RunConfig("nbnlp", "ptb", ["params"]), 30, per_arch_s=4.0)]
    lines = cost_lines(AllPlan(tasks, [], []), workers=2)
    assert lines[1].split() == ["nb201/cifar10", "100", "2", "0.60", "60"]
    assert lines[2].split() == ["nbnlp/ptb", "30", "1", "4.00", "120"]
    # 60 + 120 s = 3.0 core-minutes; 230 scores = 100 x 2 + 30 x 1
    assert lines[-1] == "total: 2 tasks, 130 architectures, 230 scores, ~3.0 min of one core (~1.5 min with 2 workers)"


def test_overview_matrix_keeps_only_the_runs_of_the_plan():
    rows = [("nb201", "cifar10", 0, 64, "synflow", 0.76), ("nb201", "cifar10", 0, 64, "params", 0.73),
            ("nb201", "cifar10", 0, 32, "synflow", 0.10),  # another batch size: not this run
            ("nb201", "cifar10", 7, 64, "synflow", 0.20),  # another sample: not this run
            ("tnb101_micro", "jigsaw", 0, 8, "synflow", 0.31)]
    summary = pd.DataFrame(rows, columns=["benchmark", "dataset", "sample_seed", "batch_size", "proxy", "spearman_mean"])
    configs = [RunConfig("tnb101_micro", "jigsaw", ["synflow"], batch_size=8), RunConfig("nb201", "cifar10", ["all"])]
    matrix = spr_matrix(summary, configs)
    assert list(matrix.columns) == ["tnb101_micro/jigsaw", "nb201/cifar10"]  # the plan's order
    assert matrix.loc["synflow"].tolist() == [0.31, 0.76]
    assert matrix.loc["params", "nb201/cifar10"] == 0.73 and pd.isna(matrix.loc["params", "tnb101_micro/jigsaw"])

"""Proxy-task search (RE over task documents) and the GenNAS tables, on toy fitness and fake stores."""

from __future__ import annotations

import json
import random

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from nasproxy_bench.gennas import paper
from nasproxy_bench.gennas.proxies import VERSION as GENNAS_VERSION
from nasproxy_bench.gennas.proxies import task_proxy_name
from nasproxy_bench.gennas.search_task import LABEL_SEED_BASE, TaskSearchConfig, fitness_value, search_task, write_best
from nasproxy_bench.gennas.tables import table1, table1_task, table2
from nasproxy_bench.gennas.task import Task, load_task, parse_task
from nasproxy_bench.gennas.tasksearch import mutate_task, sample_task
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.search.evolution import regularized_evolution
from nasproxy_bench.store import Record, ResultStore, RunKey


def dots_and_quiet(candidate: str) -> float:
    """Toy fitness, optimum 4: a dot tensor in each of the 3 stages, and no input noise."""
    doc = json.loads(candidate)
    dots = sum(any(t[0]["base"] == "dot" for t in stage["tensors"]) for stage in doc["stages"])
    return dots + (doc["noise"]["type"] == "none")


def test_sample_and_mutate_give_valid_distinct_tasks():
    rng = random.Random(0)
    tasks = [sample_task(rng) for _ in range(30)]
    assert len(set(tasks)) == 30
    for t in tasks:
        parsed = parse_task(json.loads(t))
        assert parsed.used_stages
        child = mutate_task(t, rng)
        assert child != t
        parse_task(json.loads(child))
    assert sample_task(random.Random(5)) == sample_task(random.Random(5))


def test_regularized_evolution_finds_the_toy_optimum():
    trace = regularized_evolution(sample_task, mutate_task, dots_and_quiet, random.Random(1), population=10, tournament=3, cycles=150)
    first = max(v for _, v in trace.history[:10])
    assert first < 4 and trace.best[1] == 4


def test_fitness_value_is_spearman_of_minus_loss():
    losses, truth = [3.0, 1.0, 2.0, float("inf")], [0.2, 0.9, 0.5, 0.1]
    assert fitness_value(losses, truth) == pytest.approx(1.0)
    assert fitness_value([1.0, 2.0, 3.0], [0.1, 0.3, 0.2]) == pytest.approx(spearmanr([-1, -2, -3], [0.1, 0.3, 0.2]).statistic)
    assert fitness_value([1.0, 1.0, 1.0], [0.1, 0.3, 0.2]) == 0.0


def test_search_task_resumes_from_its_log_and_records_labelled_archs(fake_root, tmp_path):
    bench = open_benchmark("nb201", fake_root)
    truth = bench.ground_truth("cifar10")
    calls = []

    def evaluator(task: Task, arch: str) -> float:  # perfect ranking when S3 has a dot tensor
        calls.append(arch)
        sign = 1.0 if any(t[0].kind == "dot" for t in task.stages[2]) else -1.0
        return -sign * float(truth[arch])

    log = tmp_path / "search.jsonl"
    config = TaskSearchConfig(bench, "cifar10", fake_root, n_archs=5, population=6, tournament=2, cycles=6, seed=3,
                              log=log, evaluator=evaluator)
    trace, fitness = search_task(config)
    assert fitness.archs == bench.sample(5, LABEL_SEED_BASE + 3)
    assert trace.best[1] == pytest.approx(1.0)
    first_calls = len(calls)
    assert first_calls == 5 * len({parse_task(json.loads(c)).hash for c, _ in trace.history})
    again, _ = search_task(config)
    assert len(calls) == first_calls and again.history == trace.history  # replayed from the log
    path = write_best(trace, fitness, config, tmp_path / "best.json", 1.0)
    best = load_task(path)
    assert best.provenance["labelled_archs"] == fitness.archs and best.provenance["fitness_spearman"] == pytest.approx(1.0)


def _store_with(path, rows: dict[str, pd.Series]) -> ResultStore:
    with ResultStore(path) as store:
        for proxy, scores in rows.items():
            key = RunKey("nb201", "cifar10", proxy, GENNAS_VERSION, 0, 16, 0)
            for arch, value in scores.items():
                store.add(key, arch, Record(float(value), 1.0), {"device": "cpu"})
    return ResultStore(path)


def test_tables_from_a_fake_store(fake_root, tmp_path):
    bench = open_benchmark("nb201", fake_root)
    archs = bench.sample(40, 0)
    truth = bench.ground_truth("cifar10")[archs]
    rng = np.random.default_rng(0)
    noisy = pd.Series(-truth.to_numpy() + rng.normal(0, truth.std(), len(archs)), index=archs)  # loss: lower is better
    cell = table1_task("Dot100", "S3")
    searched = parse_task({"schema": "gennas-task", "version": 1, "name": "found", "provenance": {"labelled_archs": archs[:5]},
                           "stages": [{"tensors": []}, {"tensors": []}, {"tensors": [[{"base": "zero", "channels": 8}]]}]})
    store = _store_with(tmp_path / "s.h5", {"gennas_combo": -truth, "gennas_single": noisy, task_proxy_name(cell): noisy,
                                            task_proxy_name(searched): -truth})
    truth_of = lambda b, d: open_benchmark(b, fake_root).ground_truth(d)  # noqa: E731
    text2 = table2(store, truth_of, [searched])
    row = next(line for line in text2.splitlines() if line.startswith("| nb201 | cifar10 |"))
    expected_single = spearmanr(-noisy.to_numpy(), truth.to_numpy()).statistic
    assert f"{expected_single:.2f} [" in row and "1.00 [" in row and "(n=40)" in row
    assert "| 0.77 |" in row and "| 0.87 |" in row  # paper targets beside ours
    assert "found: 1.00" in row and "(n=35)" in row  # its 5 labelled architectures left out
    assert "| nb101 | cifar10 | not run | 0.81 |" in text2
    text1 = table1(store, truth_of, "nb201", "cifar10")
    s3 = next(line for line in text1.splitlines() if line.startswith("| S3 |"))
    assert f"{expected_single:.2f} [" in s3 and f"/ {paper.TABLE1['S3'][7]:.2f}" in s3
    assert "not run / 0.08" in s3  # Sin1D-L at S3 was not run


def test_tables_read_the_16_channel_twin_where_it_has_more_scores_and_say_so(fake_root, tmp_path):
    bench = open_benchmark("nb201", fake_root)
    archs = bench.sample(40, 0)
    truth = bench.ground_truth("cifar10")[archs]
    reversed_few = (truth.iloc[:10]).copy()  # the plain preset: 10 archs ranked backwards (loss = truth)
    store = _store_with(tmp_path / "s.h5", {"gennas_combo": reversed_few, "gennas_combo_w16": -truth, "gennas_search_n": truth})
    truth_of = lambda b, d: open_benchmark(b, fake_root).ground_truth(d)  # noqa: E731
    row = next(line for line in table2(store, truth_of).splitlines() if line.startswith("| nb201 | cifar10 |"))
    assert "1.00 [" in row and "(n=40 w16)" in row
    assert "gennas_search_n (the paper's task, public code CONF_NB101): -1.00 [" in row  # loss = truth: ranked backwards
    assert "GenNAS-combo (gennas_combo_w16): 1.00 [" in table1(store, truth_of, "nb201", "cifar10")


def test_table2_adds_the_paper_labels_where_they_differ_from_ours(fake_root, tmp_path):
    bench = open_benchmark("nb201", fake_root)
    archs = bench.sample(40, 0)
    valid = bench.ground_truth("cifar10-valid", "valid_acc")[archs]
    store = _store_with(tmp_path / "s.h5", {"gennas_combo": -valid})  # loss ranks the validation accuracy exactly
    truth_of = lambda b, d, m=None: open_benchmark(b, fake_root).ground_truth(d, m)  # noqa: E731
    text = table2(store, truth_of, label_truth_of=truth_of)
    line = next(x for x in text.splitlines() if x.startswith("- nb201/cifar10 against the paper's labels (cifar10-valid valid_acc)"))
    assert "combo 1.00 [" in line and "(n=40)" in line and "single not run" in line
    test_rho = spearmanr(valid.to_numpy(), bench.ground_truth("cifar10")[archs].to_numpy()).statistic
    row = next(x for x in text.splitlines() if x.startswith("| nb201 | cifar10 |"))
    assert f"{test_rho:.2f} [" in row  # the main row stays against our default label
    assert "paper's labels" not in table2(store, truth_of)  # only when asked


def test_table_cells_below_ten_architectures_have_no_interval(fake_root, tmp_path):
    bench = open_benchmark("nb201", fake_root)
    archs = bench.sample(40, 0)
    truth = bench.ground_truth("cifar10")[archs]
    store = _store_with(tmp_path / "s.h5", {"gennas_combo": -truth[:9], "gennas_single": -truth[:10]})
    truth_of = lambda b, d: open_benchmark(b, fake_root).ground_truth(d)  # noqa: E731
    row = next(line for line in table2(store, truth_of).splitlines() if line.startswith("| nb201 | cifar10 |"))
    assert "1.00 (n=9)" in row  # combo: rho without an interval
    assert "1.00 [1.00, 1.00] (n=10)" in row  # single: 10 architectures get one

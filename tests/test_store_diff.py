"""nasproxy-bench diff: two stores compared record by record."""

from __future__ import annotations

import math

import pytest

from nasproxy_bench.cli import main
from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, Record, ResultStore, RunKey
from nasproxy_bench.store_diff import diff_stores, scores_agree

KEY = RunKey("nb201", "cifar10", "synflow", "1", 0, 64, 3)
OTHER = RunKey("nb201", "cifar100", "synflow", "1", 0, 64, 3)
PROV = {"torch_version": "x", "device": "cpu"}


def write(path, records):
    with ResultStore(path) as store:
        for key, arch, record in records:
            store.add(key, arch, record, PROV)
    return path


@pytest.mark.parametrize(("a", "b", "rtol", "agree"), [
    (1.0, 1.0, 0.0, True), (math.nan, math.nan, 0.0, True), (math.inf, math.inf, 0.0, True),
    (1.0, math.nan, 0.0, False), (math.inf, -math.inf, 0.0, False), (math.inf, 1e308, 1.0, False),
    (100.0, 100.5, 0.0, False), (100.0, 100.5, 0.01, True), (100.0, 102.0, 0.01, False),
])
def test_scores_agree(a, b, rtol, agree):
    assert scores_agree(a, b, rtol) is agree


def test_diff_finds_changed_scores_statuses_and_missing_records(tmp_path):
    first = write(tmp_path / "a.h5", [(KEY, "x", Record(1.0, 0.1)), (KEY, "y", Record(math.nan, 0.2)),
                                      (KEY, "z", Record(3.0, 0.1)), (OTHER, "x", Record(5.0, 0.1))])
    # wall times differ (they always do between runs): not part of the comparison
    second = write(tmp_path / "b.h5", [(KEY, "x", Record(1.0, 9.9)), (KEY, "y", Record(math.nan, 0.2)),
                                       (KEY, "z", Record(math.nan, 0.1, STATUS_ERROR, "died")), (KEY, "w", Record(2.0, 0.1))])
    result = diff_stores(ResultStore(first), ResultStore(second))
    assert result.same == 2
    assert [(key, a.status, b.status) for key, a, b in result.different] == [((KEY.path, "z"), STATUS_OK, STATUS_ERROR)]
    assert result.only_a == [(OTHER.path, "x")] and result.only_b == [(KEY.path, "w")]
    assert not result.identical
    assert result.summary() == "3 records in both stores: 2 identical, 1 differ; 1 only in the first, 1 only in the second"


def test_diff_command_exit_codes(tmp_path, capsys):
    same = [(KEY, "x", Record(1.0, 0.1)), (KEY, "y", Record(2.0, 0.1))]
    a, b = write(tmp_path / "a.h5", same), write(tmp_path / "b.h5", same)
    assert main(["diff", str(a), str(b)]) == 0
    assert "hold the same records: 2 records in both stores: 2 identical" in capsys.readouterr().out
    c = write(tmp_path / "c.h5", [(KEY, "x", Record(1.0, 0.1)), (KEY, "y", Record(2.0000001, 0.1))])
    assert main(["diff", str(a), str(c)]) == 2
    captured = capsys.readouterr()
    assert f"differs: {KEY.path} y: 2.0 (ok) vs 2.0000001 (ok)" in captured.out
    assert "differ: 2 records in both stores: 1 identical, 1 differ" in captured.err
    assert main(["diff", str(a), str(c), "--rtol", "1e-6"]) == 0
    assert main(["diff", str(a), str(tmp_path / "missing.h5")]) == 2
    assert "no result store at" in capsys.readouterr().err

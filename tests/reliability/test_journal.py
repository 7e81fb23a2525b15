"""Item 3: damaged journal lines and run groups are skipped, counted and reported; everything else is served."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict

import h5py
import numpy as np
import pytest

from nasproxy_bench.store import FORMAT_ATTR, Record, ResultStore, RunKey
from tests.reliability.conftest import cli, run_args, stored_scores

KEY = RunKey("nb201", "cifar10", "params", "1", 0, 64, 0)


def line(arch, **changes):
    entry = {"key": asdict(KEY), "arch": arch, "score": 2.0, "wall_s": 0.1, "status": "ok", "message": "", **changes}
    return json.dumps(entry).encode() + b"\n"


BAD_LINES = {
    "non-UTF-8 byte": line("bad-utf8").replace(b"bad-utf8", b"bad-\xff-utf8"),
    "no arch": json.dumps({"key": asdict(KEY), "score": 1.0, "wall_s": 0.1, "status": "ok", "message": ""}).encode() + b"\n",
    "score as a string": line("str-score", score="1.5"),
    "seed as a string": line("str-seed", key={**asdict(KEY), "seed": "0"}),
    "bool score": line("bool-score", score=True),
    "unknown status": line("odd-status", status="maybe"),
    "not an object": b"[1, 2, 3]\n",
    "not JSON": b"{this is not json\n",
}


@pytest.fixture
def damaged_journal(tmp_path):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        store.add(KEY, "checkpointed", Record(1.0, 0.1), {"device": "cpu"})
    journal = tmp_path / "s.h5.journal"
    journal.write_bytes(line("before") + b"".join(BAD_LINES.values()) + line("after", score="nan"))
    return path


def test_bad_lines_are_skipped_counted_and_reported_in_one_line(damaged_journal, caplog):
    with caplog.at_level(logging.WARNING, logger="nasproxy_bench.store"):
        store = ResultStore(damaged_journal)
    records = store.done(KEY)
    assert sorted(records) == ["after", "before", "checkpointed"]
    assert records["before"].score == 2.0 and np.isnan(records["after"].score)
    assert len(store.journal.rejected) == len(BAD_LINES) == 8
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "skipped 8 unreadable line(s)" in warnings[0]
    assert "line 2: " in warnings[0] and "\n" not in warnings[0]


def test_a_torn_last_line_is_dropped_silently(tmp_path, caplog):
    path = tmp_path / "s.h5"
    (tmp_path / "s.h5.journal").write_bytes(line("whole") + line("torn")[:40])
    with caplog.at_level(logging.WARNING, logger="nasproxy_bench.store"):
        store = ResultStore(path)
    assert list(store.done(KEY)) == ["whole"] and store.journal.torn_tail and not caplog.records


def test_run_report_and_merge_keep_working_and_the_bad_lines_are_kept(damaged_journal, fake_root, tmp_path, capsys):
    code, out, err = cli(capsys, *run_args(fake_root, damaged_journal, n=3))
    assert code == 0, err
    assert "3 scores computed" in out
    rejected = (tmp_path / "s.h5.journal.rejected").read_bytes().splitlines(keepends=True)
    assert rejected == list(BAD_LINES.values())
    assert (tmp_path / "s.h5.journal").read_bytes() == b""
    assert len(stored_scores(damaged_journal)) == 3 + 3
    code, _, err = cli(capsys, "merge", damaged_journal, "--store", tmp_path / "copy.h5")
    assert code == 0, err
    assert len(stored_scores(tmp_path / "copy.h5")) == 6


def test_report_serves_the_readable_records_of_a_damaged_journal(damaged_journal, fake_root, tmp_path, capsys):
    code, _, err = cli(capsys, *run_args(fake_root, damaged_journal, n=12))
    assert code == 0, err
    (tmp_path / "s.h5.journal").write_bytes(b"\xff\xfe garbage\n" + line("x", status="nope"))
    code, out, err = cli(capsys, "report", "--store", damaged_journal, "--data-root", fake_root, "--reports", tmp_path / "r")
    assert code == 0, err
    assert (tmp_path / "r" / "correlations.csv").exists()


def add_damaged_group(path, name="nb201/cifar10/params/v1/sample9/bs64-seed0"):
    with h5py.File(path, "r+") as h5:
        group = h5.create_group(name)
        group.create_dataset("arch", data=np.array(["x"], dtype=object), dtype=h5py.string_dtype())
        group.create_dataset("score", data=np.array([3.0]))
    return name


@pytest.mark.parametrize("marked", [True, False], ids=["store", "pre-marker store"])
def test_damaged_group_is_reported_by_name_and_others_served(tmp_path, fake_root, capsys, caplog, marked):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        store.add(KEY, "a", Record(1.0, 0.1), {})
    if not marked:
        with h5py.File(path, "r+") as h5:
            del h5.attrs[FORMAT_ATTR]
    name = add_damaged_group(path)
    with caplog.at_level(logging.WARNING, logger="nasproxy_bench.store"):
        store = ResultStore(path)
    assert store.done(KEY)["a"].score == 1.0 and store.damaged_groups == [name]
    assert any(name in r.getMessage() and "damaged" in r.getMessage() for r in caplog.records)
    code, _, err = cli(capsys, *run_args(fake_root, path, n=3))
    assert code == 0, err
    with h5py.File(path) as h5:  # carried over unchanged into the new checkpoint
        assert h5[name]["score"][()].tolist() == [3.0] and "status" not in h5[name]
    assert len(ResultStore(path).done(KEY)) == 4
    code, _, err = cli(capsys, "report", "--store", path, "--data-root", fake_root, "--reports", tmp_path / "r")
    assert code == 0, err
    code, _, err = cli(capsys, "merge", path, "--store", tmp_path / "copy.h5")
    assert code == 0, err

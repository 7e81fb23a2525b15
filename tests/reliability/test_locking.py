"""Item 7: one writer per store file, whatever path reaches it; report on a run that has not checkpointed."""

from __future__ import annotations

import os

import pytest

from nasproxy_bench.store import Record, ResultStore, RunKey
from tests.reliability.conftest import assert_one_line_error, cli, run_args, stored_scores

KEY = RunKey("nb201", "cifar10", "params", "1", 0, 64, 0)


@pytest.fixture
def busy_store(tmp_path):
    """A store held open for writing by this process (as a running ``run`` would hold it)."""
    (tmp_path / "data").mkdir()
    store = ResultStore(tmp_path / "data" / "s.h5").open_for_writing()
    yield store
    store.close()


@pytest.mark.parametrize("route", ["same path", "symlink", "relative path", "symlinked folder"])
def test_second_writer_is_refused_whatever_the_path(busy_store, fake_root, tmp_path, capsys, monkeypatch, route):
    target = tmp_path / "data" / "s.h5"
    if route == "same path":
        second = target
    elif route == "symlink":
        second = tmp_path / "link.h5"
        second.symlink_to(target)
    elif route == "relative path":
        (tmp_path / "elsewhere").mkdir()
        monkeypatch.chdir(tmp_path / "elsewhere")
        second = "../data/./s.h5"
    else:
        (tmp_path / "alias").symlink_to(tmp_path / "data", target_is_directory=True)
        second = tmp_path / "alias" / "s.h5"
    code, _, err = cli(capsys, *run_args(fake_root, second), "--reports", tmp_path / "r")
    assert_one_line_error(code, err, "is being written by pid", "wait for it to finish or use another --store")
    busy_store.add(KEY, "a", Record(1.0, 0.1), {})  # the first writer is unharmed
    busy_store.checkpoint()
    assert ResultStore(target).done(KEY)["a"].score == 1.0


def test_a_symlinked_store_stays_a_symlink(fake_root, tmp_path, capsys):
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.h5"
    link.symlink_to(tmp_path / "real" / "s.h5")  # dangling until the first checkpoint
    for n in (3, 5):
        code, _, err = cli(capsys, *run_args(fake_root, link, n=n))
        assert code == 0, err
        assert link.is_symlink() and os.readlink(link) == str(tmp_path / "real" / "s.h5")
    assert len(stored_scores(tmp_path / "real" / "s.h5")) == 5
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("link")) == ["link.h5"]


def test_report_before_the_first_checkpoint_says_the_run_is_in_progress(busy_store, fake_root, tmp_path, capsys):
    path = tmp_path / "data" / "s.h5"
    code, _, err = cli(capsys, "report", "--store", path, "--data-root", fake_root, "--reports", tmp_path / "r")
    assert_one_line_error(code, err, "has nothing checkpointed yet", f"pid {os.getpid()}")
    assert "no result store" not in err


def test_report_reads_records_that_are_only_in_the_journal(fake_root, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "s.h5"
    code, _, err = cli(capsys, *run_args(fake_root, tmp_path / "done.h5", n=12))
    assert code == 0, err
    done = ResultStore(tmp_path / "done.h5")
    with ResultStore(path) as writer:  # no checkpoint until close: everything is in the journal
        for group in done.groups.values():
            for arch, record in group.records.items():
                writer.add(group.key, arch, record, group.provenance)
        assert not path.exists()
        code, _, err = cli(capsys, "report", "--store", path, "--data-root", fake_root, "--reports", tmp_path / "r")
        assert code == 0, err
    assert (tmp_path / "r" / "correlations.csv").exists()


def test_report_without_any_store_still_says_so(fake_root, tmp_path, capsys):
    code, _, err = cli(capsys, "report", "--store", tmp_path / "none.h5", "--data-root", fake_root)
    assert_one_line_error(code, err, "no result store at")


def test_lock_file_names_the_current_writer_only(tmp_path):
    path = tmp_path / "s.h5"
    (tmp_path / "s.h5.lock").write_text("pid 999999999 (a longer line left by an earlier writer)")
    with ResultStore(path):
        assert (tmp_path / "s.h5.lock").read_text() == f"pid {os.getpid()}"

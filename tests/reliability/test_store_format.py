"""Item 1: a store carries a format marker; any other file at --store is refused and left byte-identical."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from nasproxy_bench.errors import DataError
from nasproxy_bench.store import FORMAT_ATTR, FORMAT_VERSION, Record, ResultStore, RunKey
from tests.reliability.conftest import assert_one_line_error, cli, run_args, sha, stored_scores

KEY = RunKey("nb201", "cifar10", "params", "1", 0, 64, 0)


def foreign_file(path):
    with h5py.File(path, "w") as h5:
        h5.create_dataset("experiment/weights", data=np.arange(10.0))
        h5["experiment"].attrs["owner"] = "someone else"
    return path


def test_new_store_has_the_marker(tmp_path):
    with ResultStore(tmp_path / "s.h5") as store:
        store.add(KEY, "a", Record(1.0, 0.1), {})
    with h5py.File(tmp_path / "s.h5") as h5:
        assert h5.attrs[FORMAT_ATTR] == FORMAT_VERSION


@pytest.mark.parametrize("command", ["run", "report", "merge"])
def test_foreign_hdf5_at_store_is_refused_and_untouched(fake_root, tmp_path, capsys, command):
    target = foreign_file(tmp_path / "experiment.h5")
    before = sha(target)
    if command == "run":
        args = run_args(fake_root, target)
    elif command == "report":
        args = ["report", "--store", target, "--data-root", fake_root, "--reports", tmp_path / "r"]
    else:
        with ResultStore(tmp_path / "other.h5") as other:
            other.add(KEY, "a", Record(1.0, 0.1), {})
        args = ["merge", tmp_path / "other.h5", "--store", target]
    code, _, err = cli(capsys, *args)
    assert_one_line_error(code, err, "not a nasproxy-bench result store", "experiment", "left unchanged")
    assert sha(target) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("experiment")) == ["experiment.h5"]


def test_foreign_file_with_only_root_attributes_is_refused(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs["title"] = "my notes"
    with pytest.raises(DataError, match="root attribute 'title'"):
        ResultStore(path)


def test_text_file_at_store_is_refused_and_untouched(fake_root, tmp_path, capsys):
    target = tmp_path / "notes.h5"
    target.write_text("my notes\n")
    code, _, err = cli(capsys, *run_args(fake_root, target))
    assert_one_line_error(code, err, "unreadable", "left unchanged")
    assert target.read_text() == "my notes\n"


def write_pre_marker_store(path, records):
    """A store exactly as written before the marker existed (same layout, no root attribute)."""
    with ResultStore(path) as store:
        for arch, score in records.items():
            store.add(KEY, arch, Record(score, 0.1), {"device": "cpu"})
    with h5py.File(path, "r+") as h5:
        del h5.attrs[FORMAT_ATTR]
    return path


def test_pre_marker_store_opens_and_gains_the_marker_on_the_next_write(fake_root, tmp_path, capsys):
    path = write_pre_marker_store(tmp_path / "old.h5", {"a": 1.0, "b": 2.5})
    assert {a: r.score for a, r in ResultStore(path).done(KEY).items()} == {"a": 1.0, "b": 2.5}
    code, _, err = cli(capsys, *run_args(fake_root, path, n=3))
    assert code == 0, err
    with h5py.File(path) as h5:
        assert h5.attrs[FORMAT_ATTR] == FORMAT_VERSION
    scores = stored_scores(path)
    assert len(scores) == 2 + 3  # same run group: the two old records kept, three new ones added
    assert scores[(KEY.path, "b")][0] == np.float64(2.5).tobytes()


def test_empty_hdf5_file_is_an_empty_store(tmp_path):
    path = tmp_path / "empty.h5"
    h5py.File(path, "w").close()
    assert ResultStore(path).groups == {}


def test_store_from_a_newer_format_is_refused(tmp_path):
    path = tmp_path / "s.h5"
    with h5py.File(path, "w") as h5:
        h5.attrs[FORMAT_ATTR] = FORMAT_VERSION + 1
    with pytest.raises(DataError, match="newer than this nasproxy-bench reads"):
        ResultStore(path)

import math

import pytest

from nasproxy_bench.errors import DataError, StoreBusyError
from nasproxy_bench.store import STATUS_UNSUPPORTED, Record, ResultStore, RunKey

KEY = RunKey("nb201", "cifar10", "synflow", "1", 0, 64, 3)
PROV = {"torch_version": "x", "device": "cpu"}


def test_round_trip_keeps_scores_nan_inf_status_and_provenance(tmp_path):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        store.add(KEY, "a", Record(1.5e45, 0.1), PROV)
        store.add(KEY, "b", Record(math.nan, 0.2), PROV)
        store.add(KEY, "c", Record(math.inf, 0.3), PROV)
        store.add(KEY, "d", Record(math.nan, 0.0, STATUS_UNSUPPORTED, "no cells"), PROV)
    again = ResultStore(path)
    records = again.done(KEY)
    assert records["a"].score == 1.5e45
    assert math.isnan(records["b"].score) and records["c"].score == math.inf
    assert records["d"].status == STATUS_UNSUPPORTED and records["d"].message == "no cells"
    group = again.groups[KEY.path]
    assert group.provenance["device"] == "cpu" and group.key == KEY
    assert not (tmp_path / "s.h5.journal").read_text()


def test_journal_is_replayed_and_a_torn_line_ignored(tmp_path):
    path = tmp_path / "s.h5"
    store = ResultStore(path).open_for_writing()
    store.add(KEY, "a", Record(1.0, 0.1), PROV)
    store.add(KEY, "b", Record(2.0, 0.1), PROV)
    # simulate a kill: no checkpoint, no close; the last line is torn
    store._journal.write('{"key": {"benchmark": "nb2')
    store._journal.flush()
    store._lock_file.close()
    again = ResultStore(path)
    assert {a: r.score for a, r in again.done(KEY).items()} == {"a": 1.0, "b": 2.0}


def test_second_writer_gets_a_clear_error(tmp_path):
    path = tmp_path / "s.h5"
    with ResultStore(path):
        with pytest.raises(StoreBusyError, match="being written by pid"):
            ResultStore(path).open_for_writing()
    ResultStore(path).open_for_writing().close()  # free again afterwards


def test_corrupt_store_is_reported_not_overwritten(tmp_path):
    path = tmp_path / "s.h5"
    path.write_bytes(b"not an hdf5 file")
    with pytest.raises(DataError, match="unreadable"):
        ResultStore(path)
    assert path.read_bytes() == b"not an hdf5 file"


def test_a_directory_as_store_is_a_one_line_error_that_names_a_file_path(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    with pytest.raises(DataError, match=r"is a directory.*--store .*results/scores\.h5"):
        ResultStore(folder)
    assert list(folder.iterdir()) == []


def test_merge_adds_missing_records_keeps_ours_and_counts_conflicts(tmp_path):
    other_key = RunKey("nb201", "cifar100", "synflow", "1", 0, 64, 3)
    with ResultStore(tmp_path / "a.h5") as a:
        a.add(KEY, "x", Record(1.0, 0.1), PROV)
        a.add(KEY, "y", Record(math.nan, 0.1), PROV)
        a.add(KEY, "z", Record(3.0, 0.1), PROV)
    with ResultStore(tmp_path / "b.h5") as b:
        b.add(KEY, "x", Record(1.0 + 1e-12, 0.5), PROV)  # same score within tolerance
        b.add(KEY, "y", Record(math.nan, 0.5), PROV)  # NaN equals NaN
        b.add(KEY, "z", Record(4.0, 0.5), PROV)  # conflict: ours kept
        b.add(other_key, "x", Record(7.0, 0.5), {"device": "cuda"})
    with ResultStore(tmp_path / "a.h5") as a:
        summary = a.merge_from(ResultStore(tmp_path / "b.h5"))
    assert (summary.added, summary.identical, summary.conflicts) == (1, 2, 1)
    assert "4.0" in summary.first_conflict and " z:" in summary.first_conflict
    merged = ResultStore(tmp_path / "a.h5")
    assert merged.done(KEY)["z"].score == 3.0 and merged.done(other_key)["x"].score == 7.0
    assert merged.groups[other_key.path].provenance["device"] == "cuda"


def test_run_provenance_records_the_cpu_thread_count():
    import torch

    from nasproxy_bench.execution.threads import torch_threads
    from nasproxy_bench.runner import provenance

    before = torch.get_num_threads()
    with torch_threads(1):
        assert provenance(torch.device("cpu"), [])["torch_threads"] == 1
    assert provenance(torch.device("cpu"), [])["torch_threads"] == before

"""Format-2 stores: checkpoints write segments of new records only; compactions fold them into the main file."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap

import h5py
import pytest

from nasproxy_bench import store as store_module
from nasproxy_bench.store import FORMAT_ATTR, SEGMENTS_THROUGH_ATTR, Record, ResultStore, RunKey

KEY = RunKey("nb201", "cifar10", "params", "1", 0, 64, 0)
OTHER = RunKey("nb201", "cifar100", "synflow", "1", 0, 64, 0)


@pytest.fixture
def no_small_store_rewrite(monkeypatch):
    monkeypatch.setattr(store_module, "COMPACT_BELOW", 0)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def segment_names(path) -> list[str]:
    folder = path.with_name(path.name + ".segments")
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def segment_archs(path, name) -> list[str]:
    with h5py.File(path.with_name(path.name + ".segments") / name) as h5:
        return sorted(a for g in (h5[KEY.path], ) for a in g["arch"].asstr()[()])


def add(store, key, archs, score=1.0):
    for i, arch in enumerate(archs):
        store.add(key, arch, Record(score + i, 0.01), {"device": "cpu"})


def test_a_checkpoint_writes_only_the_new_records_and_leaves_the_main_file(tmp_path, no_small_store_rewrite):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, [f"a{i}" for i in range(10)])
        store.checkpoint()  # first checkpoint: the main file
        main = sha(path)
        add(store, KEY, ["b0", "b1", "b2"], score=50.0)
        store.checkpoint()
        assert sha(path) == main and segment_names(path) == ["000001.h5"]
        assert segment_archs(path, "000001.h5") == ["b0", "b1", "b2"]
        add(store, KEY, ["c0"], score=70.0)
        store.add(OTHER, "a0", Record(-3.0, 0.5, "error", "boom"), {"device": "cuda"})
    assert sha(path) == main  # close() was a checkpoint: 2 new records -> a second segment
    assert segment_names(path) == ["000001.h5", "000002.h5"]
    again = ResultStore(path)
    assert {a: r.score for a, r in again.done(KEY).items()} == {
        **{f"a{i}": 1.0 + i for i in range(10)}, "b0": 50.0, "b1": 51.0, "b2": 52.0, "c0": 70.0}
    assert again.done(OTHER)["a0"] == Record(-3.0, 0.5, "error", "boom")
    assert again.groups[OTHER.path].provenance["device"] == "cuda"


def test_segments_are_folded_in_when_they_hold_as_many_records_as_the_main_file(tmp_path, no_small_store_rewrite):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, [f"a{i}" for i in range(6)])
        store.checkpoint()
        for batch in range(2):  # 2 + 2 records: still fewer than the main file's 6
            add(store, KEY, [f"b{batch}{i}" for i in range(2)])
            store.checkpoint()
        assert segment_names(path) == ["000001.h5", "000002.h5"]
        add(store, KEY, ["c0", "c1"])  # 2 + 2 + 2 = 6 >= 6: compaction
        store.checkpoint()
        assert segment_names(path) == []
    with h5py.File(path) as h5:
        assert h5.attrs[SEGMENTS_THROUGH_ATTR] == 2 and len(h5[KEY.path]["arch"]) == 12
    add_later = ResultStore(path).open_for_writing()
    add(add_later, KEY, ["d0"])
    add_later.close()
    assert segment_names(path) == ["000003.h5"]  # numbering continues after the folded segments
    assert len(ResultStore(path).done(KEY)) == 13


def test_small_stores_are_rewritten_whole_as_before(tmp_path):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, ["a", "b"])
        store.checkpoint()
        add(store, KEY, ["c"])
        store.checkpoint()
    assert segment_names(path) == []
    with h5py.File(path) as h5:
        assert sorted(h5[KEY.path]["arch"].asstr()[()]) == ["a", "b", "c"]


def test_kill_between_compaction_and_segment_deletion_loses_and_duplicates_nothing(tmp_path, no_small_store_rewrite):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, ["a0", "a1"])
        store.checkpoint()
        add(store, KEY, ["b0"], score=10.0)
        store.checkpoint()
    kept = (path.with_name("s.h5.segments") / "000001.h5").read_bytes()
    with ResultStore(path) as store:  # a later compaction overwrites b0 ...
        store.add(KEY, "b0", Record(99.0, 0.0), {})
        add(store, KEY, ["c0", "c1"])
        store.checkpoint()
    assert segment_names(path) == []
    # ... and a kill right after its rename would leave the old segment 1 behind:
    (path.with_name("s.h5.segments") / "000001.h5").write_bytes(kept)
    reader = ResultStore(path)
    assert reader.done(KEY)["b0"].score == 99.0 and len(reader.done(KEY)) == 5  # the leftover is skipped
    with ResultStore(path) as writer:
        assert writer.record_count() == 5
    assert segment_names(path) == []  # and deleted by the next writer


def test_temporary_file_of_a_killed_segment_write_is_ignored_and_removed(tmp_path, no_small_store_rewrite):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, ["a0", "a1", "a2"])
        store.checkpoint()
        add(store, KEY, ["b0"])
    folder = path.with_name("s.h5.segments")
    (folder / "000002.h5.tmp").write_bytes(b"\x89HDF half written")
    assert len(ResultStore(path).done(KEY)) == 4
    ResultStore(path).open_for_writing().close()
    assert segment_names(path) == ["000001.h5"]


def test_version_1_store_is_read_and_upgraded_on_the_first_checkpoint(tmp_path, no_small_store_rewrite):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, ["a0", "a1"])
    with h5py.File(path, "r+") as h5:
        h5.attrs[FORMAT_ATTR] = 1
    with ResultStore(path) as store:
        add(store, KEY, ["b0"])
    assert segment_names(path) == []  # a version-1 file is never paired with segments an old reader would miss
    with h5py.File(path) as h5:
        assert h5.attrs[FORMAT_ATTR] == 2 and len(h5[KEY.path]["arch"]) == 3


def test_merge_reads_the_segments_of_the_source(tmp_path, no_small_store_rewrite):
    source = tmp_path / "src.h5"
    with ResultStore(source) as store:
        add(store, KEY, ["a0", "a1"])
        store.checkpoint()
        add(store, KEY, ["b0"], score=7.0)
    assert segment_names(source) == ["000001.h5"]
    with ResultStore(tmp_path / "dest.h5") as dest:
        summary = dest.merge_from(ResultStore(source))
    assert summary.added == 3
    assert ResultStore(tmp_path / "dest.h5").done(KEY)["b0"].score == 7.0


CHILD = textwrap.dedent("""
    import sys
    from nasproxy_bench import store as store_module
    from nasproxy_bench.store import Record, ResultStore, RunKey
    store_module.COMPACT_BELOW = 0
    key = RunKey("nb201", "cifar10", "params", "1", 0, 64, 0)
    store = ResultStore(sys.argv[1]).open_for_writing()
    n = 0
    while True:  # 40 records per checkpoint, forever: the parent kills us at some point
        for _ in range(40):
            store.add(key, f"a{n}", Record(float(n) * 0.5, 0.0), {})
            n += 1
        store.checkpoint()
        print(n, flush=True)
""")


@pytest.mark.slow
def test_kill_9_during_checkpoints_loses_nothing_already_checkpointed(tmp_path):
    path = tmp_path / "s.h5"
    checkpointed = 0
    for kill_after in (3, 9, 17, 5):
        process = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True,
                                   env={**os.environ, "OMP_NUM_THREADS": "1"})
        for _ in range(kill_after):
            checkpointed = int(process.stdout.readline())
        process.send_signal(signal.SIGKILL)  # usually in the middle of the next checkpoint's writes
        process.wait()
        records = ResultStore(path).done(KEY)
        assert len(records) >= checkpointed
        assert all(records[f"a{i}"].score == i * 0.5 for i in range(checkpointed))


def test_a_reader_whose_listed_segment_vanishes_reads_again(tmp_path, no_small_store_rewrite, monkeypatch):
    path = tmp_path / "s.h5"
    with ResultStore(path) as store:
        add(store, KEY, ["a0", "a1", "a2"])
        store.checkpoint()
        add(store, KEY, ["b0"])
    loads = []
    real_list, real_load = ResultStore._list_segments, ResultStore._load_once

    def counting_load(self):
        loads.append(1)
        return real_load(self)

    def racing(self):  # during the first load the listing still names a segment a compaction has just deleted
        found = real_list(self)
        return [*found, 7] if len(loads) == 1 else found

    monkeypatch.setattr(ResultStore, "_load_once", counting_load)
    monkeypatch.setattr(ResultStore, "_list_segments", racing)
    reader = ResultStore(path)
    assert sorted(reader.done(KEY)) == ["a0", "a1", "a2", "b0"] and len(loads) == 2

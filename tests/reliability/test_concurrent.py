"""Item 8 (concurrency): a second run on a store in use is refused by every path; readers see a consistent store."""

from __future__ import annotations

import os
import time

import pytest

from nasproxy_bench.store import ResultStore
from tests.reliability.conftest import cli, cli_process, run_args, stored_scores

N = 40


@pytest.mark.slow
def test_second_runs_are_refused_and_readers_see_a_consistent_store(fake_root, slow_plugin, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RELIABILITY_SLOW_S", "0.8")  # the first run takes >= 32 s: long enough to start three more
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    store = tmp_path / "data" / "s.h5"
    (tmp_path / "link.h5").symlink_to(store)
    extra = ("--plugin", "reliability_slow", "--checkpoint-every", "0.3")
    first = cli_process(*run_args(fake_root, store, n=N, proxies="params,slow_weight_sum", extra=extra), root=fake_root,
                        extra_path=slow_plugin)
    deadline = time.time() + 300
    while not (store.with_name("s.h5.journal").exists() and ResultStore(store).record_count() >= 4):
        assert first.poll() is None and time.time() < deadline
        time.sleep(0.05)

    routes = {"same path": store, "symlink": tmp_path / "link.h5", "relative path": "../data/s.h5"}
    seconds = {name: cli_process(*run_args(fake_root, path, n=N, proxies="params,slow_weight_sum", extra=extra), root=fake_root,
                                 extra_path=slow_plugin, cwd=tmp_path / "elsewhere") for name, path in routes.items()}
    # meanwhile: repeated reads of the store (HDF5 file + journal) while the first run checkpoints every 0.3 s
    snapshots = []
    while first.poll() is None and len(snapshots) < 100:
        snapshots.append({(g.key.path, a): r.score for g in ResultStore(store).groups.values() for a, r in g.records.items()})
        time.sleep(0.02)
    code, _, err = cli(capsys, "report", "--store", store, "--data-root", fake_root, "--reports", tmp_path / "r")
    report_during_run = first.poll() is None
    assert code == 0, err

    for name, process in seconds.items():
        _, err = process.communicate(timeout=300)
        assert first.poll() is None, "the first run ended before the second ones tried: make it slower"
        assert process.returncode == 2, (name, err)
        assert len(err.strip().splitlines()) == 1 and "is being written by pid" in err, (name, err)
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err  # the first run is unharmed
    assert (tmp_path / "link.h5").is_symlink()

    final = ResultStore(store)
    final_scores = {(g.key.path, a): r.score for g in final.groups.values() for a, r in g.records.items()}
    assert len(final_scores) == 2 * N and len(stored_scores(store)) == 2 * N
    counts = [len(s) for s in snapshots]
    assert counts == sorted(counts), "a reader saw records disappear"
    for snapshot in snapshots:  # every record a reader saw is the final one, bit for bit
        assert all(final_scores[k] == v or (v != v and final_scores[k] != final_scores[k]) for k, v in snapshot.items())
    assert len(snapshots) > 10 and max(counts) > 4
    print(f"{len(snapshots)} concurrent reads ({min(counts)}..{max(counts)} records), report during run: {report_during_run}, "
          f"3 second runs refused, pid {os.getpid()}")

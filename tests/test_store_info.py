"""``info``: what a store holds, per run and per proxy, from hand-written stores."""

from __future__ import annotations

import math

from nasproxy_bench.cli import main
from nasproxy_bench.store import STATUS_ERROR, STATUS_UNSUPPORTED, Record, ResultStore, RunKey
from nasproxy_bench.store_info import summarize
from tests.test_store_archive import pack
from tests.test_store_diff import write

SYNFLOW_V1 = RunKey("nb201", "cifar10", "synflow", "1", 0, 64, 3)
SYNFLOW_V2 = RunKey("nb201", "cifar10", "synflow", "2", 0, 64, 3)
SNIP = RunKey("nb201", "cifar10", "snip", "1", 0, 64, 3)
OTHER_RUN = RunKey("nb201", "cifar100", "snip", "1", 0, 64, 3)


def _store(tmp_path):
    return write(tmp_path / "s.h5", [
        (SYNFLOW_V1, "a", Record(1.0, 1.0)), (SYNFLOW_V1, "b", Record(2.0, 1.0)), (SYNFLOW_V1, "c", Record(3.0, 1.0)),
        (SYNFLOW_V2, "a", Record(1.5, 2.0)), (SYNFLOW_V2, "b", Record(math.nan, 4.0)),
        (SNIP, "a", Record(0.5, 0.5)), (SNIP, "b", Record(math.nan, 0.25, STATUS_ERROR, "oom")),
        (SNIP, "c", Record(math.nan, 0.0, STATUS_UNSUPPORTED, "no")), (SNIP, "d", Record(-math.inf, 1.0)),
        (OTHER_RUN, "a", Record(7.0, 3.0)),
    ])


def test_runs_count_architectures_with_every_current_proxy_and_statuses_per_proxy(tmp_path):
    runs = summarize(ResultStore(_store(tmp_path)))
    assert [(r.dataset, r.archs) for r in runs] == [("cifar10", 4), ("cifar100", 1)]
    c10 = runs[0]
    # synflow v2 (a, b) is the current version; v1's c does not make c complete
    assert c10.complete == 2
    rows = {(p.proxy, p.version): p for p in c10.proxies}
    assert rows["synflow", "1"].superseded and not rows["synflow", "2"].superseded
    v2 = rows["synflow", "2"]
    assert (v2.records, v2.ok, v2.non_finite, v2.wall_total_s, v2.wall_median_s) == (2, 2, 1, 6.0, 3.0)
    snip = rows["snip", "1"]
    assert (snip.ok, snip.error, snip.unsupported, snip.non_finite) == (2, 1, 1, 1)
    assert snip.wall_total_s == 1.75 and snip.wall_median_s == 0.375
    assert c10.wall_total_s == 3.0 + 6.0 + 1.75
    assert c10.devices == ["cpu"]
    assert c10.per_arch_s == 3.0 + 0.375  # medians of synflow v2 and snip; v1 is superseded
    assert c10.time_to(10) == 8 * 3.0 + 6 * 0.375 and c10.time_to(4) == 2 * 3.0


def test_info_reads_plain_and_packed_stores(tmp_path, capsys):
    plain = _store(tmp_path)
    packed = pack(plain)
    assert main(["info", str(plain), str(packed)]) == 0
    out = capsys.readouterr().out
    assert f"{plain}: 2 run(s), 10 records" in out and f"{packed}: 2 run(s), 10 records" in out
    assert out.count("nb201/cifar10 (sample 0, batch 64, seed 3): 2 proxies, 4 architectures, 2 with every proxy") == 2
    assert "superseded" in out
    assert main(["info", str(plain), "--target", "10"]) == 0
    out = capsys.readouterr().out
    # synflow v2 lacks 8 records at 3.0 s, snip 6 at 0.375 s: 26.25 s
    assert "3.4 s per architecture (sum of medians); to 10: 8 more, about 26.2 s" in out


def test_info_reads_a_running_store_that_has_only_its_journal_yet(tmp_path, capsys):
    store = ResultStore(tmp_path / "new.h5").open_for_writing()
    store.add(SNIP, "a", Record(0.5, 0.5), {})  # journaled, no checkpoint yet
    assert not (tmp_path / "new.h5").exists()
    assert main(["info", str(tmp_path / "new.h5")]) == 0
    assert "1 proxy, 1 architecture" in capsys.readouterr().out
    store.close()


def test_merge_and_diff_read_a_running_store_that_has_only_its_journal_yet(tmp_path, capsys):
    """A snapshot of a run in progress: its records so far are merged, and the running store is left alone."""
    running = ResultStore(tmp_path / "running.h5").open_for_writing()
    running.add(SNIP, "a", Record(0.5, 0.5), {})
    running.add(SNIP, "b", Record(0.25, 0.5), {})
    journal = (tmp_path / "running.h5.journal").read_bytes()
    assert main(["merge", str(tmp_path / "running.h5"), "--store", str(tmp_path / "snapshot.h5")]) == 0
    assert "2 records added" in capsys.readouterr().out
    snapshot = ResultStore(tmp_path / "snapshot.h5")
    assert {a: r.score for g in snapshot.groups.values() for a, r in g.records.items()} == {"a": 0.5, "b": 0.25}
    assert main(["diff", str(tmp_path / "running.h5"), str(tmp_path / "snapshot.h5")]) == 0
    assert "hold the same records" in capsys.readouterr().out
    assert not (tmp_path / "running.h5").exists() and (tmp_path / "running.h5.journal").read_bytes() == journal
    running.close()


def test_info_on_a_missing_store_is_a_one_line_error(tmp_path, capsys):
    assert main(["info", str(tmp_path / "nothing.h5")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no result store" in err


def test_a_closed_stdout_ends_the_command_quietly(tmp_path):
    """``info BIG | head -1``: no traceback once the reader has gone (output larger than a pipe's buffer)."""
    import subprocess
    import sys

    keys = [RunKey("nb201", "cifar10", f"proxy_{i}", "1", 0, 64, 3) for i in range(800)]  # ~90 kB of rows
    store = write(tmp_path / "big.h5", [(key, "a", Record(1.0, 0.1)) for key in keys])
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from nasproxy_bench.cli import main; sys.exit(main())",
                             "info", str(store)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(str(store).encode())
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and err == b""


def test_info_names_a_damaged_group_and_summarizes_the_rest(tmp_path, capsys):
    from tests.reliability.test_journal import add_damaged_group

    path = write(tmp_path / "s.h5", [(SNIP, "a", Record(0.5, 0.5))])
    name = add_damaged_group(path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "1 proxy, 1 architecture, 1 with every proxy" in out and f"damaged (unreadable, kept as it is by writers): {name}" in out

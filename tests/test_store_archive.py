"""Packed (``.h5.xz``) result stores: read by the read-only commands, refused by the writing ones."""

from __future__ import annotations

import lzma

from nasproxy_bench.cli import main
from nasproxy_bench.store import Record, ResultStore
from tests.test_store_diff import KEY, OTHER, write


def pack(path):
    packed = path.with_name(path.name + ".xz")
    packed.write_bytes(lzma.compress(path.read_bytes(), format=lzma.FORMAT_XZ))
    return packed


def test_diff_and_merge_read_packed_stores_and_leave_them_as_they_were(tmp_path, capsys):
    plain = write(tmp_path / "a.h5", [(KEY, "x", Record(1.0, 0.1)), (OTHER, "y", Record(2.0, 0.1))])
    packed = pack(plain)
    before = packed.read_bytes()
    assert main(["diff", str(plain), str(packed)]) == 0
    assert f"{plain} and {packed} hold the same records" in capsys.readouterr().out
    assert main(["merge", str(packed), "--store", str(tmp_path / "work.h5")]) == 0
    out = capsys.readouterr().out
    assert "2 records added" in out and out.startswith(f"{packed}:")  # named as given, not the temporary copy
    work = ResultStore(tmp_path / "work.h5")
    assert {a: r.score for g in work.groups.values() for a, r in g.records.items()} == {"x": 1.0, "y": 2.0}
    assert packed.read_bytes() == before


def test_a_writing_command_refuses_a_packed_store_with_the_unpack_command(tmp_path, capsys):
    packed = pack(write(tmp_path / "a.h5", [(KEY, "x", Record(1.0, 0.1))]))
    assert main(["merge", str(tmp_path / "a.h5"), "--store", str(packed)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "read-only" in err and f"xz -dk {packed}" in err


def test_a_truncated_packed_store_is_a_one_line_error(tmp_path, capsys):
    packed = pack(write(tmp_path / "a.h5", [(KEY, "x", Record(1.0, 0.1))]))
    packed.write_bytes(packed.read_bytes()[:200])
    assert main(["merge", str(packed), "--store", str(tmp_path / "work.h5")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a complete xz archive" in err
    assert not (tmp_path / "work.h5").exists() or ResultStore(tmp_path / "work.h5").record_count() == 0


def test_report_reads_a_packed_store(fake_root, tmp_path):
    store = tmp_path / "s.h5"
    common = ["--data-root", str(fake_root), "--reports", str(tmp_path / "r1")]
    assert main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", "params,synflow", "--n", "4",
                 "--no-progress", "--store", str(store), *common]) == 0
    packed = pack(store)
    for source, out in ((store, "plain"), (packed, "packed")):
        assert main(["report", "--store", str(source), "--data-root", str(fake_root), "--reports", str(tmp_path / out)]) == 0
    assert (tmp_path / "plain" / "correlations.csv").read_text() == (tmp_path / "packed" / "correlations.csv").read_text()

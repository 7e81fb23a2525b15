"""Item 8 (disk full): a checkpoint that cannot be written is a one-line error; the previous store survives."""

from __future__ import annotations

import errno

from tests.reliability.conftest import assert_one_line_error, cli, run_args, sha, stored_scores, tmpfs


def fill(folder, leave_bytes: int) -> None:
    """Fill the file system of ``folder`` up to ``leave_bytes`` free."""
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    if leave_bytes:
        with open(folder / "filler", "r+b") as handle:
            handle.truncate(handle.seek(0, 2) - leave_bytes)


def test_disk_full_while_checkpointing(fake_root, tmp_path, capsys):
    with tmpfs(tmp_path / "small", "size=512k") as small:
        store = small / "s.h5"
        reports = ["--reports", str(tmp_path / "r")]
        code, _, err = cli(capsys, *run_args(fake_root, store, n=4, proxies="params,synflow"), *reports)
        assert code == 0, err
        before, before_records = sha(store), stored_scores(store)
        fill(small, leave_bytes=8192)  # room for journal lines, not for a new store file

        code, _, err = cli(capsys, *run_args(fake_root, store, n=8, proxies="params,synflow"), "--checkpoint-every", "0", *reports)
        assert_one_line_error(code, err, "could not checkpoint result store", "No space left on device",
                              "previous store and its journal are intact")
        assert sha(store) == before  # the previous store is untouched
        assert not (small / "s.h5.tmp").exists()
        journal_lines = (small / "s.h5.journal").read_bytes().count(b"\n")
        assert journal_lines == 2  # the architecture finished before the failed checkpoint (x 2 proxies) is kept

        (small / "filler").unlink()
        code, out, err = cli(capsys, *run_args(fake_root, store, n=8, proxies="params,synflow"), *reports)
        assert code == 0, err
        assert "6 scores computed" in out  # the journaled architecture is not recomputed
        after = stored_scores(store)
    clean = tmp_path / "clean.h5"
    code, _, err = cli(capsys, *run_args(fake_root, clean, n=8, proxies="params,synflow"), *reports)
    assert code == 0, err
    assert after == stored_scores(clean) and len(after) == 16
    assert all(after[k] == v for k, v in before_records.items())


def test_disk_full_on_the_journal(fake_root, tmp_path, capsys):
    with tmpfs(tmp_path / "small", "size=512k") as small:
        store = small / "s.h5"
        reports = ["--reports", str(tmp_path / "r")]
        code, _, err = cli(capsys, *run_args(fake_root, store, n=2), *reports)
        assert code == 0, err
        before = sha(store)
        fill(small, leave_bytes=0)
        code, _, err = cli(capsys, *run_args(fake_root, store, n=6), *reports)
        assert code == 2 and len(err.splitlines()) == 1 and "No space left on device" in err, err
        assert sha(store) == before

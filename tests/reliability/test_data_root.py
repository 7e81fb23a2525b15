"""Item 8 (data root): a broken data root is a one-line error naming the file and what to do."""

from __future__ import annotations

import pytest

from tests.reliability.conftest import assert_one_line_error, cli, run_args

TABLE = "benchmarks/nb201/nb201.csv"


def make_root(tmp_path, fake_root, damage):
    root = tmp_path / "root"
    table = root / TABLE
    table.parent.mkdir(parents=True)
    text = (fake_root / TABLE).read_bytes()
    table.write_bytes(damage(text))
    return root


def cut_mid_row(text):
    lines = text.splitlines(keepends=True)
    return b"".join(lines[:9000]) + lines[9000][:30]


def cut_at_row(text):
    return b"".join(text.splitlines(keepends=True)[:9000])


def wrong_header(text):
    header, rest = text.split(b"\n", 1)
    return header.replace(b"arch", b"architecture", 1) + b"\n" + rest


def non_utf8(text):
    return text[:50000] + b"\xff\xfe" + text[50002:]


def duplicate_rows(text):
    lines = text.splitlines(keepends=True)
    first_arch = lines[1].split(b",")[1]
    lines[7] = lines[7].replace(lines[7].split(b",")[1], first_arch)
    return b"".join(lines)


def missing_columns(text):
    header, rest = text.split(b"\n", 1)
    return header.replace(b"cifar10/test_acc", b"c10_acc") + b"\n" + rest


CASES = {
    "truncated mid-row": (cut_mid_row, ["last row is cut short", "re-create"]),
    "truncated at a row": (cut_at_row, ["8999 architectures, expected 15,625", "re-create"]),
    "wrong header": (wrong_header, ["no 'arch' column", "re-create"]),
    "missing columns": (missing_columns, ["missing columns ['cifar10/test_acc']", "re-create"]),
    "non-UTF-8": (non_utf8, ["unreadable table", "utf-8", "re-create"]),
    "duplicate rows": (duplicate_rows, ["1 duplicate architecture rows", "re-create"]),
    "empty file": (lambda text: b"", ["unreadable table", "re-create"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_damaged_table_names_the_file_and_what_to_do(fake_root, tmp_path, capsys, case):
    damage, needles = CASES[case]
    root = make_root(tmp_path, fake_root, damage)
    code, _, err = cli(capsys, *run_args(root, tmp_path / "s.h5"))
    assert_one_line_error(code, err, str(root / TABLE), *needles)
    assert not (tmp_path / "s.h5").exists()


@pytest.mark.parametrize("kind", ["missing", "a file"])
def test_missing_or_file_data_root(tmp_path, capsys, kind):
    root = tmp_path / "root"
    if kind == "a file":
        root.write_text("not a folder")
    code, _, err = cli(capsys, *run_args(root, tmp_path / "s.h5"))
    expected = "does not exist" if kind == "missing" else "is a file, not a folder"
    assert_one_line_error(code, err, f"data root {root} {expected}", "--data-root or set NASPROXY_DATA")


def test_empty_data_root_names_the_missing_table(tmp_path, capsys):
    (tmp_path / "root").mkdir()
    code, _, err = cli(capsys, *run_args(tmp_path / "root", tmp_path / "s.h5"))
    assert_one_line_error(code, err, f"missing benchmark table {tmp_path / 'root' / TABLE}", "nasproxy-bench import nb201")


def test_missing_input_images_are_one_line(fake_root, tmp_path, capsys):
    root = make_root(tmp_path, fake_root, lambda text: text)
    code, _, err = cli(capsys, *run_args(root, tmp_path / "s.h5", proxies="grad_norm"))
    assert_one_line_error(code, err, "missing CIFAR-10 file", "data_batch_1")

"""Items 5 and 6: inputs that used to give tracebacks or be accepted silently."""

from __future__ import annotations

import bz2
import os
import pickle

import pytest
import torch

from tests.reliability.conftest import assert_one_line_error, cli, run_args, tmpfs


def test_n_above_the_space_size_is_refused_and_points_at_full(fake_root, tmp_path, capsys):
    code, _, err = cli(capsys, *run_args(fake_root, tmp_path / "s.h5", n=20000))
    assert_one_line_error(code, err, "--n 20000 is more than the 15,625 architectures of nb201", "--full")
    assert not (tmp_path / "s.h5").exists()


def test_n_equal_to_the_space_size_is_accepted(fake_root, tmp_path):
    from nasproxy_bench.config import RunConfig
    from nasproxy_bench.registry import get_benchmark
    from nasproxy_bench.runner import check_run_size

    bench = get_benchmark("nb201")(fake_root)
    check_run_size(RunConfig("nb201", "cifar10", ["params"], n=15625), bench)  # no error


def test_empty_seeds_is_a_one_line_error(fake_root, tmp_path, capsys):
    code, _, err = cli(capsys, *run_args(fake_root, tmp_path / "s.h5"), "--seeds", "")
    assert_one_line_error(code, err, "--seeds is empty")


class Payload:
    """Unpickling this runs os.system: the file it should create must never appear."""

    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pth_gets_the_same_refusal_as_a_pbz2(fake_root, tmp_path, capsys):
    Payload.marker = str(tmp_path / "PWNED")
    torch.save({"arch2infos": Payload()}, tmp_path / "evil.pth")
    code, _, pth_err = cli(capsys, "import", "nb201", "--source", tmp_path / "evil.pth", "--data-root", tmp_path / "root")
    assert_one_line_error(code, pth_err, "refused to unpickle (global posix.system is not on the safe list)", "--trust-pickles")
    (tmp_path / "nats").mkdir()
    (tmp_path / "nats/000000.pickle.pbz2").write_bytes(bz2.compress(pickle.dumps({"200": Payload()})))
    code, _, pbz2_err = cli(capsys, "import", "nb201", "--source", tmp_path / "nats", "--data-root", tmp_path / "root")
    assert_one_line_error(code, pbz2_err, "refused to unpickle (global posix.system is not on the safe list)")
    assert pth_err.split(": ", 2)[2] == pbz2_err.split(": ", 2)[2]  # same words after the file name
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "root").exists()


@pytest.mark.parametrize("content", [b"", b"not a torch file", "half"], ids=["empty", "junk", "truncated"])
def test_corrupt_pth_is_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.pth"
    if content == "half":
        torch.save({"arch2infos": {}}, path)
        content = path.read_bytes()[: len(path.read_bytes()) // 2]
    path.write_bytes(content)
    code, _, err = cli(capsys, "import", "nb201", "--source", path, "--data-root", tmp_path / "root")
    assert_one_line_error(code, err, str(path), "truncated or corrupt torch file", "download it again")


def test_store_on_a_read_only_location_is_one_line(fake_root, tmp_path, capsys):
    with tmpfs(tmp_path / "ro", "ro,size=1m") as ro:
        code, _, err = cli(capsys, *run_args(fake_root, ro / "s.h5"), "--reports", tmp_path / "r")
        assert_one_line_error(code, err, "cannot write result store", "Read-only file system", "writable location")


def test_store_under_a_file_is_one_line(fake_root, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    code, _, err = cli(capsys, *run_args(fake_root, tmp_path / "afile" / "s.h5"))
    assert_one_line_error(code, err, "cannot write result store", "writable location")

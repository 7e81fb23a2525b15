"""`data download` against a loopback HTTP server: success, resume, checksum mismatch, 404, cut transfer, full disk."""

from __future__ import annotations

import errno
import hashlib
import http.server
import io
import tarfile
import threading

import pandas as pd
import pytest
import torch

from nasproxy_bench import download
from nasproxy_bench.cli import main
from nasproxy_bench.datafiles import Expected, Group, OfficialFile, load_manifest, select_groups
from nasproxy_bench.download import download_groups, fetch
from nasproxy_bench.errors import DataError
from tests.test_import import _record

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes


class Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    cut_once: set[str] = set()  # paths whose next full response stops half-way
    ranges: list[str | None] = []  # the Range header of every GET

    def log_message(self, *args):  # keep test output clean
        pass

    def do_HEAD(self):
        self.send_response(200 if self.path in self.files else 404)
        self.end_headers()

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        ranged = self.headers.get("Range")
        self.ranges.append(ranged)
        if ranged:
            start = int(ranged.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        rest = body[start:]
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        if self.path in self.cut_once and not ranged:
            self.cut_once.discard(self.path)
            self.wfile.write(rest[: len(rest) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(rest)


@pytest.fixture
def server(monkeypatch, tmp_path):
    monkeypatch.setenv("NASPROXY_CACHE", str(tmp_path / "cache"))
    Handler.files, Handler.cut_once, Handler.ranges = {}, set(), []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def official(url, name="file.bin", sha256=None, md5=None, **extra):
    return OfficialFile(name=name, url=url, page="https://example.org/readme", dest=f"downloads/{name}", sha256=sha256, md5=md5, **extra)


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def one_line(exc_info):
    message = str(exc_info.value)
    assert "\n" not in message
    return message


def test_verified_download_lands_in_the_data_root(server, tmp_path):
    Handler.files["/file.bin"] = PAYLOAD
    root = tmp_path / "root"
    dest = fetch(official(f"{server}/file.bin", sha256=hashlib.sha256(PAYLOAD).hexdigest()), root, progress=False)
    assert dest == root / "downloads/file.bin" and dest.read_bytes() == PAYLOAD
    assert files_under(root) == ["downloads/file.bin"]
    assert files_under(tmp_path / "cache") == []  # nothing left behind in the cache either


def test_publisher_md5_is_checked(server, tmp_path):
    Handler.files["/file.bin"] = PAYLOAD
    fetch(official(f"{server}/file.bin", md5=hashlib.md5(PAYLOAD).hexdigest()), tmp_path / "root", progress=False)
    assert (tmp_path / "root/downloads/file.bin").read_bytes() == PAYLOAD


def test_unknown_checksum_is_computed_and_printed(server, tmp_path):
    Handler.files["/file.bin"] = PAYLOAD
    said = []
    fetch(official(f"{server}/file.bin"), tmp_path / "root", progress=False, echo=said.append)
    assert said == [f"warning: no published checksum for file.bin; its SHA-256 is {hashlib.sha256(PAYLOAD).hexdigest()} (10240 bytes)"]


def test_checksum_mismatch_is_one_line_and_leaves_nothing(server, tmp_path):
    Handler.files["/file.bin"] = PAYLOAD
    root = tmp_path / "root"
    with pytest.raises(DataError) as caught:
        fetch(official(f"{server}/file.bin", sha256="0" * 64), root, progress=False)
    assert "checksum mismatch" in one_line(caught) and "deleted" in str(caught.value)
    assert files_under(root) == [] and files_under(tmp_path / "cache") == []


def test_404_is_one_line_and_leaves_nothing(server, tmp_path):
    root = tmp_path / "root"
    with pytest.raises(DataError) as caught:
        fetch(official(f"{server}/gone.bin"), root, progress=False)
    assert "HTTP 404" in one_line(caught) and "https://example.org/readme" in str(caught.value)
    assert files_under(root) == []


def test_cut_transfer_is_one_line_leaves_nothing_in_the_root_and_resumes(server, tmp_path):
    body = PAYLOAD * 20  # 204,800 bytes: the server stops after 102,400, past the first 65,536-byte chunk
    Handler.files["/file.bin"] = body
    Handler.cut_once.add("/file.bin")
    root = tmp_path / "root"
    entry = official(f"{server}/file.bin", sha256=hashlib.sha256(body).hexdigest())
    with pytest.raises(DataError) as caught:
        fetch(entry, root, progress=False)
    message = one_line(caught)
    assert "rerun the same command to resume" in message
    assert files_under(root) == []
    partial = tmp_path / "cache/downloads/file.bin.part"
    kept = partial.read_bytes()
    assert 65536 <= len(kept) <= 102400 and kept == body[: len(kept)]
    fetch(entry, root, progress=False)  # the second attempt asks only for the rest (Range request, 206)
    assert (root / "downloads/file.bin").read_bytes() == body and not partial.exists()
    assert Handler.ranges == [None, f"bytes={len(kept)}-"]


def test_full_disk_is_one_line_and_leaves_nothing(server, tmp_path, monkeypatch):
    Handler.files["/file.bin"] = PAYLOAD * 300  # several chunks

    def full(handle, chunk):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "write_chunk", full)
    root = tmp_path / "root"
    with pytest.raises(DataError) as caught:
        fetch(official(f"{server}/file.bin"), root, progress=False)
    assert "no space left on device" in one_line(caught)
    assert files_under(root) == [] and files_under(tmp_path / "cache") == []


def test_full_disk_while_placing_into_the_data_root(server, tmp_path, monkeypatch):
    Handler.files["/file.bin"] = PAYLOAD
    root = tmp_path / "root"

    def cross_device(src, dst):  # the cache is on another file system and the data root is full
        if str(dst).endswith(".tmp"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    def copy_then_fail(src, dst):
        with open(dst, "wb") as handle:
            handle.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    real_replace = download.os.replace
    monkeypatch.setattr(download.os, "replace", cross_device)
    monkeypatch.setattr(download.shutil, "copyfile", copy_then_fail)
    with pytest.raises(DataError) as caught:
        fetch(official(f"{server}/file.bin"), root, progress=False)
    assert "no space left on device" in one_line(caught)
    assert files_under(root) == []


def test_manual_file_without_a_link_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError) as caught:
        fetch(official(None), tmp_path, progress=False)
    assert "no direct download link" in one_line(caught) and str(tmp_path / "downloads/file.bin") in str(caught.value)


def nb201_pth_bytes() -> bytes:
    data = {"meta_archs": ["x", "y"], "arch2infos": {0: {"less": _record(0, "x", 10.0), "full": _record(0, "x", 70.0)},
                                                     1: {"less": _record(1, "y", 20.0), "full": _record(1, "y", 80.0)}},
            "evaluated_indexes": [0, 1]}
    buffer = io.BytesIO()
    torch.save(data, buffer)
    return buffer.getvalue()


def test_download_then_import_writes_the_normalized_table(server, tmp_path):
    body = nb201_pth_bytes()
    Handler.files["/NAS-Bench-201-v1_0-fake.pth"] = body
    entry = official(f"{server}/NAS-Bench-201-v1_0-fake.pth", name="NAS-Bench-201-v1_0-fake.pth",
                     sha256=hashlib.sha256(body).hexdigest(), import_benchmark="nb201",
                     import_source="downloads/NAS-Bench-201-v1_0-fake.pth")
    group = Group("fake", "fake", ("nb201",), (), (Expected("benchmarks/nb201/nb201.csv", "x"),), (entry,))
    root = tmp_path / "root"
    said = []
    download_groups([group], root, progress=False, echo=said.append)
    table = pd.read_csv(root / "benchmarks/nb201/nb201.csv")
    assert table["arch"].tolist() == ["x", "y"] and table["cifar10/test_acc"].tolist() == [71.0, 81.0]
    download_groups([group], root, progress=False, echo=said.append)  # second time: verified in place, table kept
    assert any("already present and verified" in s for s in said) and any("already holds a table; kept" in s for s in said)


def test_archive_is_unpacked_through_a_temporary_folder(server, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/batches.meta")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    Handler.files["/c.tar.gz"] = buffer.getvalue()
    entry = official(f"{server}/c.tar.gz", name="c.tar.gz", md5=hashlib.md5(buffer.getvalue()).hexdigest(), unpack="tar",
                     unpack_to="inputs")
    root = tmp_path / "root"
    download_groups([Group("c", "c", ("nb201",), (), (), (entry,))], root, progress=False, echo=lambda s: None)
    assert files_under(root) == ["downloads/c.tar.gz", "inputs/cifar-10-batches-py/batches.meta"]


def test_present_file_with_a_wrong_checksum_is_refused(tmp_path):
    entry = official("http://127.0.0.1:9/never", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads/file.bin").write_bytes(b"other bytes")
    group = Group("g", "g", ("nb201",), (), (), (entry,))
    with pytest.raises(DataError, match="differs from the official"):
        download_groups([group], tmp_path, progress=False, echo=lambda s: None)


def test_manifest_groups_and_selection():
    groups = load_manifest()
    assert {"nb201", "nats_sss", "nb101", "nds", "transnas", "nbnlp", "hw_nas_bench", "cifar10", "cifar100", "ptb"} <= set(groups)
    assert [g.name for g in select_groups(groups, "nb201")] == ["cifar10", "cifar100", "nb201"]
    assert [g.name for g in select_groups(groups, "tnb101_micro")] == ["transnas"]
    assert [g.name for g in select_groups(groups, "nds_darts")] == ["cifar10", "nds"]
    nb101 = groups["nb101"].downloads[0]
    assert nb101.known_hash == "sha256:4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1"
    assert groups["cifar10"].downloads[0].known_hash == "md5:c58f30108f718f92721af3b95e74349a"


def test_status_lists_present_and_missing_files_with_sha256(tmp_path, capsys):
    (tmp_path / "inputs/ptb").mkdir(parents=True)
    (tmp_path / "inputs/ptb/ptb.train.txt").write_text("hello world\n")
    code = main(["data", "status", "ptb", "--data-root", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    digest = hashlib.sha256(b"hello world\n").hexdigest()
    assert f"present inputs/ptb/ptb.train.txt: 12 B, sha256 {digest}" in out
    assert "missing inputs/ptb/ptb.valid.txt (optional)" in out
    assert "downloaded, CHECKSUM MISMATCH" in out  # the file is not the official PTB text
    assert "get it: nasproxy-bench data download ptb" in out


def test_unknown_name_is_one_line(tmp_path, capsys):
    assert main(["data", "download", "nope", "--data-root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "unknown benchmark or data group 'nope'" in err


def test_missing_pooch_is_one_line(server, tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "pooch", None)  # as if the 'download' extra were not installed
    with pytest.raises(DataError) as caught:
        fetch(official(f"{server}/file.bin"), tmp_path, progress=False)
    assert "pip install 'nasproxy-bench[download]'" in one_line(caught)

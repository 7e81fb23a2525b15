"""``nasproxy-bench data download``: fetch official files, verify them, unpack, then run the importer.

Fetching goes through ``pooch`` (progress bar, checksum verification, temporary file then rename)
with a downloader that resumes: the bytes received so far are kept in a partial file in the cache
folder (``$NASPROXY_CACHE``, else ``~/.cache/nasproxy-bench``), never in the data root, and the
next attempt asks the server for the rest (HTTP Range). A file reaches its place in the data root
only after its checksum matched, through a temporary name and an atomic rename, so a failed or
interrupted download leaves no half-written file there. Every failure is one ``DataError`` line.
"""

from __future__ import annotations

import errno
import os
import shutil
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasproxy_bench.datafiles import Group, OfficialFile, file_digest
from nasproxy_bench.errors import DataError

CACHE_ENV = "NASPROXY_CACHE"
CHUNK = 1 << 16  # a cut transfer loses at most the last (unfinished) chunk


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "nasproxy-bench"


def _pooch() -> Any:
    try:
        import pooch
    except ImportError:
        raise DataError("downloads need the 'pooch' package: pip install 'nasproxy-bench[download]' (or pip install pooch)") from None
    return pooch


def _space_error(what: str, exc: OSError) -> DataError:
    reason = "no space left on device" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return DataError(f"{what} ({reason}); nothing half-written was left in the data root: free space and rerun")


class ResumingDownloader:
    """A pooch downloader that continues a partial file with an HTTP Range request."""

    def __init__(self, partial: Path, *, progress: bool = True, timeout: float = 60.0) -> None:
        self.partial = partial
        self.progress = progress
        self.timeout = timeout

    def __call__(self, url: str, output_file: str | Path, pooch_obj: Any, check_only: bool = False) -> bool | None:
        import requests
        from tqdm import tqdm

        if check_only:
            return requests.head(url, allow_redirects=True, timeout=self.timeout).ok
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        have = self.partial.stat().st_size if self.partial.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            if have and response.status_code == 416:  # nothing left to send: the partial file is complete
                os.replace(self.partial, output_file)
                return None
            response.raise_for_status()
            if have and response.status_code != 206:
                have = 0  # the server ignores ranges: start again
            length = response.headers.get("Content-Length")
            total = have + int(length) if length and length.isdigit() else None
            with open(self.partial, "ab" if have else "wb") as handle, \
                    tqdm(total=total, initial=have, unit="B", unit_scale=True, disable=not self.progress,
                         desc=Path(url).name[:40]) as bar:
                try:
                    for chunk in response.iter_content(CHUNK):
                        write_chunk(handle, chunk)
                        bar.update(len(chunk))
                except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError, requests.Timeout):
                    handle.flush()
                    raise TransferCut(handle.tell(), total) from None
        received = self.partial.stat().st_size
        if total is not None and received < total:
            raise TransferCut(received, total)
        os.replace(self.partial, output_file)
        return None


def write_chunk(handle: Any, chunk: bytes) -> None:
    """One write of downloaded bytes (a seam for tests that simulate a full disk)."""
    handle.write(chunk)
    handle.flush()


class TransferCut(Exception):
    def __init__(self, received: int, total: int | None) -> None:
        super().__init__(f"{received} of {total or 'unknown'} bytes")
        self.received, self.total = received, total or "?"


def fetch(official: OfficialFile, data_root: Path, *, progress: bool = True, echo: Callable[[str], None] = print) -> Path:
    """Download ``official`` (resuming a partial copy), verify it and move it to its place in the data root."""
    import requests

    pooch = _pooch()
    dest = data_root / official.dest
    if official.url is None:
        raise DataError(f"{official.name} has no direct download link: get it from {official.page}, put it at {dest} "
                        "and rerun this command to verify and import it")
    cache = cache_root() / "downloads"
    partial = cache / (official.name.replace("/", "_") + ".part")
    fname = official.name.replace("/", "_")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        got = Path(pooch.retrieve(official.url, official.known_hash, fname=fname, path=cache, progressbar=False,
                                  downloader=ResumingDownloader(partial, progress=progress)))
    except TransferCut as exc:
        raise DataError(f"download of {official.name} was cut after {exc.received} of {exc.total} bytes; rerun the same "
                        f"command to resume (the partial copy is kept in {cache}, not in the data root)") from None
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else "?"
        raise DataError(f"download of {official.name} failed: HTTP {code} from {official.url}; the official link may have "
                        f"moved: see {official.page}") from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        cut = "; rerun the same command to resume" if partial.exists() else ""
        raise DataError(f"download of {official.name} failed: {type(exc).__name__} ({_short(exc)}){cut}") from None
    except ValueError as exc:  # pooch: checksum mismatch (its temporary file is already gone)
        partial.unlink(missing_ok=True)
        raise DataError(f"{official.name}: checksum mismatch ({_short(exc)}); the download was deleted: rerun, and if it "
                        f"persists the file at {official.url} has changed (see {official.page})") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise _space_error(f"could not download {official.name}", exc) from None
    try:
        _check_md5_suffix(official, got)
        if official.known_hash is None:
            echo(f"warning: no published checksum for {official.name}; its SHA-256 is {file_digest(got)} ({got.stat().st_size} bytes)")
        _place(got, dest)
    finally:
        got.unlink(missing_ok=True)
    return dest


def _short(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _check_md5_suffix(official: OfficialFile, path: Path) -> None:
    if official.md5_suffix and not file_digest(path, "md5").endswith(official.md5_suffix):
        raise DataError(f"{official.name}: its MD5 does not end with {official.md5_suffix} as its name says; "
                        "the download was deleted: rerun")


def _place(source: Path, dest: Path) -> None:
    """Copy (or move) a verified file into the data root through a temporary name and an atomic rename."""
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, tmp)  # same file system: no copy
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _space_error(f"could not write {dest}", exc) from None


def verify_present(official: OfficialFile, path: Path, echo: Callable[[str], None] = print) -> None:
    """Check a file already in the data root against the manifest (sizes, checksums)."""
    if official.size is not None and path.stat().st_size != official.size:
        raise DataError(f"{path} has {path.stat().st_size} bytes, the official {official.name} has {official.size}; "
                        "delete it and rerun to download it again")
    if official.sha256 or official.md5:
        algorithm, expected = ("sha256", official.sha256) if official.sha256 else ("md5", official.md5)
        actual = file_digest(path, algorithm)
        if actual != expected:
            raise DataError(f"{path}: {algorithm} {actual} differs from the official {expected}; delete it and rerun "
                            "to download it again")
    else:
        _check_md5_suffix(official, path)
        echo(f"note: no published checksum for {official.name}; its SHA-256 is {file_digest(path)}")


def unpack(archive: Path, kind: str, target: Path) -> list[Path]:
    """Extract ``archive`` into ``target`` through a temporary folder; top-level entries already there are kept."""
    work = target / f".{archive.name}.extracting"
    shutil.rmtree(work, ignore_errors=True)
    try:
        work.mkdir(parents=True)
        if kind == "tar":
            with tarfile.open(archive) as tar:
                tar.extractall(work, filter="data")
        elif kind == "zip":
            with zipfile.ZipFile(archive) as zipped:
                for name in zipped.namelist():
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise DataError(f"{archive}: unsafe member {name!r}; not extracted")
                zipped.extractall(work)
        else:
            raise DataError(f"unknown archive kind {kind!r} in the data manifest")
        placed = []
        for entry in sorted(work.iterdir()):
            final = target / entry.name
            if not final.exists():
                os.replace(entry, final)
            placed.append(final)
        return placed
    except (tarfile.TarError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{archive}: damaged archive ({_short(exc)}); delete it and rerun to download it again") from None
    except OSError as exc:
        raise _space_error(f"could not unpack {archive}", exc) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def download_groups(groups: list[Group], data_root: Path, *, optional: bool = False, run_import: bool = True,
                    trust_pickles: bool = False, progress: bool = True, echo: Callable[[str], None] = print) -> None:
    """Fetch (or verify, when already there), unpack and import every official file of ``groups``."""
    for group in groups:
        for official in group.downloads:
            if official.optional and not optional:
                echo(f"{group.name}: skipped optional {official.name} (pass --optional to fetch it)")
                continue
            dest = data_root / official.dest
            if dest.is_file():
                verify_present(official, dest, echo)
                echo(f"{group.name}: {official.dest} already present and verified")
            else:
                fetch(official, data_root, progress=progress, echo=echo)
                echo(f"{group.name}: downloaded and verified {official.dest}")
            if official.unpack:
                for path in unpack(dest, official.unpack, data_root / (official.unpack_to or "downloads")):
                    echo(f"{group.name}: unpacked {path.relative_to(data_root)}")
            if run_import and official.import_benchmark:
                _import(official, data_root, trust_pickles, echo)


def _import(official: OfficialFile, data_root: Path, trust_pickles: bool, echo: Callable[[str], None]) -> None:
    from nasproxy_bench.registry import get_benchmark
    from nasproxy_bench.tables import existing_rows, write_table

    bench = get_benchmark(official.import_benchmark)(data_root, trust_pickles=trust_pickles)
    source = data_root / (official.import_source or official.dest)
    many = getattr(bench, "import_tables", None)
    tables = many(source) if many else [bench.import_table(source)]
    for frame, out in tables:
        if existing_rows(out) is not None:
            echo(f"{official.import_benchmark}: {out} already holds a table; kept it "
                 f"(to replace it: nasproxy-bench import {official.import_benchmark} --source {source} --force)")
            continue
        write_table(frame, out)
        echo(f"{official.import_benchmark}: imported {len(frame)} architectures into {out}")

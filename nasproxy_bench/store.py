"""The result store: every proxy score with its provenance, in one HDF5 file.

Crash safety. The HDF5 file is never modified in place: a checkpoint writes a complete new
file beside it and atomically renames it over the old one, so a kill at any moment leaves
either the old or the new file, never a broken one. Between checkpoints every finished
architecture is appended as one JSON line to ``<store>.journal`` (flushed per record); on the
next open the journal is replayed and nothing finished is computed again. A lock file
(``fcntl.flock``, released by the OS even on ``kill -9``) keeps two writers apart.

Paths. Lock, journal and temporary file sit beside the *resolved* store path, so a second
writer reaching the same file through a symlink or another relative path meets the same lock,
and a checkpoint replaces the file a symlink points to, never the symlink itself.

Format marker. A store's root carries the attribute ``nasproxy_bench_store`` (the format
version, ``FORMAT_VERSION``). A file without it is opened only if it has the structure every
store written before the marker had: no root attributes, and every dataset inside a run group
(a group holding an ``arch`` dataset) named ``arch``/``score``/``wall_s``/``status``/``message``.
Anything else (say an HDF5 file with ``experiment/weights``) is refused and never written.
The first checkpoint adds the marker to an old store.

Damage. A journal line that is not UTF-8, not JSON, lacks a field, has a field of the wrong type
or an unknown status is skipped and counted (one warning line); a writer copies such lines to
``<store>.journal.rejected`` before emptying the journal. A torn last line (no newline: a write
cut by a kill) is dropped silently; its architecture is simply recomputed. A run group that
cannot be read (missing run-key attributes, datasets of unequal length, ...) is reported by
name, every other group is served, and a writer copies the damaged group unchanged into each
new checkpoint.

Layout: one HDF5 group per run key ``benchmark/dataset/proxy/v<version>/sample<s>/bs<b>-seed<k>``
with datasets ``arch``, ``score``, ``wall_s``, ``status``, ``message`` (one row per architecture)
and provenance attributes.
"""

from __future__ import annotations

import fcntl
import io
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from nasproxy_bench.errors import DataError, NasproxyError, StoreBusyError

STATUS_OK = "ok"
STATUS_UNSUPPORTED = "unsupported"
STATUS_ERROR = "error"
STATUSES = (STATUS_OK, STATUS_UNSUPPORTED, STATUS_ERROR)

FORMAT_ATTR = "nasproxy_bench_store"
FORMAT_VERSION = 1
RUN_DATASETS = frozenset({"arch", "score", "wall_s", "status", "message"})

log = logging.getLogger(__name__)
SEARCH_SAMPLE = -2  # sample seed of scores computed by searches (runs use >= 0, architecture lists -1)


@dataclass(frozen=True)
class RunKey:
    """What a stored score depends on; part of every record's key."""

    benchmark: str
    dataset: str
    proxy: str
    proxy_version: str
    sample_seed: int
    batch_size: int
    seed: int  # network init seed and minibatch seed

    @property
    def path(self) -> str:
        return (
            f"{self.benchmark}/{self.dataset}/{self.proxy}/v{self.proxy_version}/"
            f"sample{self.sample_seed}/bs{self.batch_size}-seed{self.seed}"
        )


_KEY_TYPES = {"benchmark": str, "dataset": str, "proxy": str, "proxy_version": str,
              "sample_seed": int, "batch_size": int, "seed": int}


@dataclass
class Record:
    score: float
    wall_s: float
    status: str = STATUS_OK
    message: str = ""


@dataclass
class Group:
    key: RunKey
    provenance: dict[str, Any] = field(default_factory=dict)
    records: dict[str, Record] = field(default_factory=dict)


@dataclass
class MergeSummary:
    added: int = 0
    identical: int = 0
    conflicts: int = 0
    first_conflict: str | None = None


def _same_score(a: float, b: float, rel_tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=rel_tol)


def _encode(value: float) -> Any:
    return value if math.isfinite(value) else repr(value)  # 'nan', 'inf', '-inf'


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc).splitlines()[0]


# -- journal lines ---------------------------------------------------------------------------
def _typed(value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ValueError(f"{what} is {type(value).__name__}, expected {kind.__name__}")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, str) and value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{what} is {type(value).__name__}, expected a number")
    return float(value)


def parse_journal_line(line: bytes) -> tuple[RunKey, str, Record, dict[str, Any]]:
    """One journal line, validated; ``ValueError`` names what is wrong with it."""
    entry = json.loads(line.decode("utf-8"))  # UnicodeDecodeError and JSONDecodeError are ValueErrors
    if not isinstance(entry, dict):
        raise ValueError("not a JSON object")
    missing = sorted({"key", "arch", "score", "wall_s", "status", "message"} - entry.keys())
    if missing:
        raise ValueError(f"no {', '.join(missing)}")
    key = entry["key"]
    if not isinstance(key, dict) or set(key) != set(_KEY_TYPES):
        raise ValueError(f"key must have exactly the fields {', '.join(_KEY_TYPES)}")
    run_key = RunKey(**{name: _typed(key[name], kind, f"key.{name}") for name, kind in _KEY_TYPES.items()})
    status = entry["status"]
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    record = Record(_number(entry["score"], "score"), _number(entry["wall_s"], "wall_s"), status,
                    _typed(entry["message"], str, "message"))
    provenance = entry.get("provenance", {})
    if not isinstance(provenance, dict):
        raise ValueError("provenance is not an object")
    return run_key, _typed(entry["arch"], str, "arch"), record, provenance


@dataclass
class JournalRead:
    entries: list[tuple[RunKey, str, Record, dict[str, Any]]] = field(default_factory=list)
    rejected: list[bytes] = field(default_factory=list)  # complete lines that failed validation
    first_problem: str = ""
    torn_tail: bool = False  # the last line has no newline (a write cut by a kill)

    @property
    def empty(self) -> bool:
        return not (self.entries or self.rejected or self.torn_tail)


def read_journal(path: Path) -> JournalRead:
    out = JournalRead()
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return out
    except OSError as exc:
        raise DataError(f"cannot read journal {path} ({_reason(exc)}); check its permissions") from None
    lines = raw.split(b"\n")
    if lines[-1]:
        out.torn_tail = True
    for number, line in enumerate(lines[:-1], start=1):
        if not line.strip():
            continue
        try:
            out.entries.append(parse_journal_line(line))
        except ValueError as exc:
            out.rejected.append(line)
            if not out.first_problem:
                out.first_problem = f"line {number}: {str(exc).splitlines()[0][:120]}"
    return out


# -- HDF5 structure --------------------------------------------------------------------------
def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_run_group(obj: Any) -> bool:
    return isinstance(obj, h5py.Group) and isinstance(obj.get("arch"), h5py.Dataset)


def foreign_content(h5: h5py.File) -> str | None:
    """What makes an unmarked HDF5 file something other than a pre-marker store (None: nothing)."""
    if len(h5.attrs):
        return f"root attribute {next(iter(h5.attrs))!r}"
    found: list[str] = []

    def visit(name: str, obj: Any) -> None:
        if found:
            return
        if isinstance(obj, h5py.Dataset):
            if obj.name.rsplit("/", 1)[-1] not in RUN_DATASETS or not _is_run_group(obj.parent):
                found.append(name)
        elif isinstance(obj, h5py.Group) and not _is_run_group(obj) and len(obj.attrs):
            found.append(f"{name} (attributes)")
        elif not isinstance(obj, h5py.Group):
            found.append(name)

    h5.visititems(visit)
    return found[0] if found else None


def read_run_group(obj: h5py.Group) -> tuple[RunKey, dict[str, Any], dict[str, Record]]:
    """Key, provenance and records of one run group; KeyError/ValueError/TypeError if malformed."""
    attrs = {k: _attr(v) for k, v in obj.attrs.items()}
    missing = [f for f in _KEY_TYPES if f not in attrs]
    if missing:
        raise KeyError(f"no run-key attributes {', '.join(missing)}")
    key = RunKey(**{f: kind(attrs[f]) for f, kind in _KEY_TYPES.items()})
    columns = {name: obj[name] for name in RUN_DATASETS}
    archs, statuses, messages = (columns[n].asstr()[()] for n in ("arch", "status", "message"))
    records = {}
    for arch, score, wall, status, message in zip(archs, columns["score"][()], columns["wall_s"][()],
                                                   statuses, messages, strict=True):
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        records[str(arch)] = Record(float(score), float(wall), str(status), str(message))
    return key, attrs, records


def _write_group(h5group: h5py.Group, group: Group) -> None:
    archs = list(group.records)
    records = [group.records[a] for a in archs]
    text = h5py.string_dtype()
    h5group.create_dataset("arch", data=np.array(archs, dtype=object), dtype=text)
    h5group.create_dataset("score", data=np.array([r.score for r in records], dtype=np.float64))
    h5group.create_dataset("wall_s", data=np.array([r.wall_s for r in records], dtype=np.float64))
    h5group.create_dataset("status", data=np.array([r.status for r in records], dtype=object), dtype=text)
    h5group.create_dataset("message", data=np.array([r.message for r in records], dtype=object), dtype=text)
    for name, value in {**group.provenance, **asdict(group.key)}.items():
        # plain Python types only (torch.__version__ is a str subclass h5py cannot store)
        h5group.attrs[name] = str(value) if isinstance(value, str) else value


def _copy_group_as_is(source: h5py.Group, dest_file: h5py.File, name: str) -> None:
    """Copy a damaged run group's own datasets and attributes (not subgroups) unchanged."""
    if name in dest_file:
        raise DataError(f"run group {name} of the store is damaged and new records have the same key; "
                        "move the store aside (or delete that group) and rerun")
    dest = dest_file.require_group(name)
    for child, obj in source.items():
        if isinstance(obj, h5py.Dataset):
            source.copy(obj, dest, name=child)
    for attr, value in source.attrs.items():
        dest.attrs[attr] = value


# -- lock ------------------------------------------------------------------------------------
def lock_holder(lock_path: Path) -> str | None:
    """Who holds the writer lock (``'pid N'``), or None when nobody does."""
    try:
        handle = open(lock_path)
    except OSError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "another process"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


class ResultStore:
    """Read access always; write access after ``open_for_writing`` (takes the lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)  # as given (messages)
        self.real_path = Path(os.path.realpath(self.path))  # what is read, written and locked
        self.journal_path = self.real_path.with_name(self.real_path.name + ".journal")
        self.lock_path = self.real_path.with_name(self.real_path.name + ".lock")
        self.rejected_path = self.real_path.with_name(self.real_path.name + ".journal.rejected")
        self.groups: dict[str, Group] = {}
        self.damaged_groups: list[str] = []
        self.journal = JournalRead()
        self._warned: set[str] = set()
        self._lock_file = None
        self._journal = None
        self._unsaved = 0
        self._journaled_groups: set[str] = set()  # provenance goes on a group's first journal line only
        self._last_checkpoint = time.monotonic()
        self._load()

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> None:
        # The journal first, then the HDF5 file: a checkpoint racing with this read then only
        # moves records from the journal into a file that is read afterwards, so none is missed.
        self.journal = read_journal(self.journal_path)
        self.groups.clear()
        self.damaged_groups = []
        if self.real_path.exists():
            self._load_file()
        for key, arch, record, provenance in self.journal.entries:
            self._group(key, provenance).records[arch] = record
        self._warn_about_damage()

    def _load_file(self) -> None:
        try:
            with h5py.File(self.real_path, "r") as h5:
                self._check_format(h5)
                h5.visititems(self._load_group)
        except OSError as exc:
            raise DataError(
                f"result store {self.path} is unreadable ({str(exc).splitlines()[0]}); it was left "
                f"unchanged: pass another --store, or move it aside (records in {self.journal_path.name} are kept)"
            ) from None

    def _check_format(self, h5: h5py.File) -> None:
        marker = h5.attrs.get(FORMAT_ATTR)
        if marker is None:
            foreign = foreign_content(h5)
            if foreign is not None:
                raise DataError(
                    f"{self.path} is an HDF5 file but not a nasproxy-bench result store (it holds {foreign}); "
                    "it was left unchanged: pass another --store"
                )
            return
        try:
            version = int(_attr(marker))
        except (TypeError, ValueError):
            raise DataError(f"{self.path}: unreadable store format marker {marker!r}; pass another --store") from None
        if version > FORMAT_VERSION:
            raise DataError(
                f"{self.path} is a result store of format {version}, newer than this nasproxy-bench reads "
                f"({FORMAT_VERSION}); upgrade nasproxy-bench"
            )

    def _load_group(self, name: str, obj: Any) -> None:
        if not _is_run_group(obj):
            return
        try:
            key, provenance, records = read_run_group(obj)
        except (KeyError, ValueError, TypeError, OSError) as exc:
            self.damaged_groups.append(name)
            self._warn(f"warning: result store {self.path}: run group {name} is damaged "
                       f"({str(exc).strip(chr(39)).splitlines()[0][:120]}); it is skipped, every other group is served")
            return
        self._group(key, provenance).records.update(records)

    def _warn_about_damage(self) -> None:
        read = self.journal
        if read.rejected:
            self._warn(f"warning: {self.journal_path}: skipped {len(read.rejected)} unreadable line(s) ({read.first_problem}); "
                       f"every other record is served, and a writer keeps the skipped lines in {self.rejected_path.name}")

    def _warn(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning(message)

    def _group(self, key: RunKey, provenance: dict[str, Any]) -> Group:
        group = self.groups.get(key.path)
        if group is None:
            group = self.groups[key.path] = Group(key, dict(provenance))
        return group

    def done(self, key: RunKey) -> dict[str, Record]:
        group = self.groups.get(key.path)
        return group.records if group else {}

    def record_count(self) -> int:
        return sum(len(g.records) for g in self.groups.values())

    def find(self, key: RunKey, arch: str) -> tuple[Record, dict[str, Any]] | None:
        """The stored record of ``arch`` under ``key``, or under a key differing only in its sample.

        The sample seed names which set of architectures a run covers; a score depends on the
        rest of the key only, so a record of another sample (a run's, a search's) is the same score.
        Returns the record and its group's provenance.
        """
        own = self.groups.get(key.path)
        if own is not None and arch in own.records:
            return own.records[arch], own.provenance
        for group in self.groups.values():
            if arch in group.records and _same_but_sample(group.key, key):
                return group.records[arch], group.provenance
        return None

    def adopt(self, key: RunKey, archs: list[str]) -> int:
        """Copy into ``key``'s group the records of ``archs`` that another sample already holds."""
        siblings = [g for g in self.groups.values() if g.key.path != key.path and _same_but_sample(g.key, key)]
        copied = 0
        for arch in archs:
            if arch in self.done(key):
                continue
            source = next((g for g in siblings if arch in g.records), None)
            if source is not None:
                self.add(key, arch, source.records[arch], source.provenance)
                copied += 1
        return copied

    # -- writing ---------------------------------------------------------------------------
    def open_for_writing(self) -> ResultStore:
        try:
            self.real_path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.fdopen(os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644), "r+")  # not append mode: rewritten in place
        except OSError as exc:
            raise NasproxyError(
                f"cannot write result store {self.path} ({_reason(exc)}: {exc.filename}); pass --store a writable location"
            ) from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise StoreBusyError(
                f"result store {self.path} is being written by {holder}; wait for it to finish or use another --store"
            ) from None
        self._lock_file = lock
        try:
            lock.seek(0)
            lock.write(f"pid {os.getpid()}")  # overwrite, then cut: a reader never sees it empty
            lock.truncate()
            lock.flush()
            self._load()  # pick up anything written between construction and locking
            try:
                self._journal = open(self.journal_path, "a", encoding="utf-8")
            except OSError as exc:
                raise NasproxyError(f"cannot write {self.journal_path} ({_reason(exc)}); pass --store a writable location") from None
            if not self.journal.empty:
                self._set_rejected_aside()
                self.checkpoint()  # folds the journal into the file and drops a torn last line
        except BaseException:
            self._release()
            raise
        return self

    def _set_rejected_aside(self) -> None:
        if not self.journal.rejected:
            return
        try:
            with open(self.rejected_path, "ab") as out:
                out.write(b"".join(line + b"\n" for line in self.journal.rejected))
        except OSError as exc:
            raise DataError(f"cannot save unreadable journal lines to {self.rejected_path} ({_reason(exc)}); "
                            "the journal is unchanged") from None

    def add(self, key: RunKey, arch: str, record: Record, provenance: dict[str, Any]) -> None:
        if self._journal is None:
            raise RuntimeError("store is not open for writing")
        if key.path in self.damaged_groups:
            raise DataError(f"run group {key.path} of {self.path} is damaged and this run writes the same key; "
                            "move the store aside and rerun")
        group = self._group(key, provenance)
        group.provenance.update(provenance)
        group.records[arch] = record
        entry = {"key": asdict(key), "arch": arch, **asdict(record), "score": _encode(record.score)}
        if key.path not in self._journaled_groups:
            entry["provenance"] = provenance
            self._journaled_groups.add(key.path)
        try:
            self._journal.write(json.dumps(entry) + "\n")
            self._journal.flush()
        except OSError as exc:
            raise DataError(
                f"cannot append to {self.journal_path} ({_reason(exc)}); records up to the last one are kept: "
                "free space and rerun the same command to resume"
            ) from None
        self._unsaved += 1

    def merge_from(self, other: ResultStore, rel_tol: float = 1e-6) -> MergeSummary:
        """Add every record of ``other`` that this store lacks (e.g. shards run on other machines).

        A record both stores hold is kept as it is here; if the two scores differ (beyond
        ``rel_tol``, NaN equal to NaN) it is counted as a conflict, which for the same key
        means the runs were not reproducible (different hardware or library versions).
        """
        summary = MergeSummary()
        for path, group in sorted(other.groups.items()):
            mine = self.done(group.key)
            for arch, record in group.records.items():
                held = mine.get(arch)
                if held is None:
                    self.add(group.key, arch, record, group.provenance)
                    summary.added += 1
                elif _same_score(held.score, record.score, rel_tol):
                    summary.identical += 1
                else:
                    summary.conflicts += 1
                    if summary.first_conflict is None:
                        summary.first_conflict = f"{path} {arch}: {held.score!r} here, {record.score!r} there"
        return summary

    def maybe_checkpoint(self, every_s: float = 60.0) -> None:
        if self._unsaved and time.monotonic() - self._last_checkpoint > every_s:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write everything to a new HDF5 file, swap it in atomically, then empty the journal.

        If the new file cannot be written (disk full, quota), the old file and the journal
        stay as they were and a ``DataError`` says so.
        """
        tmp = self.real_path.with_name(self.real_path.name + ".tmp")
        image = self._file_image()
        try:
            with open(tmp, "wb") as handle:
                handle.write(image)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.real_path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DataError(
                f"could not checkpoint result store {self.path} ({_reason(exc)}); the previous store and its journal "
                "are intact: free space and rerun the same command to resume"
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if self._journal is not None:
            self._journal.truncate(0)
            self._journal.flush()
            self._journaled_groups.clear()  # provenance is in the HDF5 file now
        self._unsaved = 0
        self._last_checkpoint = time.monotonic()

    def _file_image(self) -> bytes:
        """The whole store as HDF5 bytes, built in memory so that only plain file writes touch the disk.

        (HDF5 reports a full disk as a RuntimeError plus stray messages; a plain write gives one OSError.)
        """
        image = io.BytesIO()
        with h5py.File(image, "w") as h5:
            h5.attrs[FORMAT_ATTR] = FORMAT_VERSION
            for path, group in sorted(self.groups.items()):
                _write_group(h5.create_group(path), group)
            if self.damaged_groups:
                with h5py.File(self.real_path, "r") as old:
                    for name in self.damaged_groups:
                        _copy_group_as_is(old[name], h5, name)
        return image.getvalue()

    def close(self) -> None:
        try:
            if self._journal is not None:
                self.checkpoint()
        finally:
            self._release()

    def _release(self) -> None:
        if self._journal is not None:
            try:
                self._journal.close()
            except OSError:
                pass  # every record that reached the journal is on disk; the rest is recomputed
            self._journal = None
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> ResultStore:
        return self.open_for_writing()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _same_but_sample(a: RunKey, b: RunKey) -> bool:
    return (a.benchmark, a.dataset, a.proxy, a.proxy_version, a.batch_size, a.seed) == (
        b.benchmark, b.dataset, b.proxy, b.proxy_version, b.batch_size, b.seed)


def require_store(path: Path) -> None:
    """Raise a one-line error unless ``path`` holds records (a checkpointed file or a journal).

    A run that has not checkpointed yet is reported as in progress, not as a missing store.
    """
    real = Path(os.path.realpath(path))
    journal = real.with_name(real.name + ".journal")
    holder = lock_holder(real.with_name(real.name + ".lock"))
    has_data = real.exists() or (journal.exists() and journal.stat().st_size > 0)
    if holder and (not has_data or ResultStore(path).record_count() == 0):
        raise NasproxyError(
            f"result store {path} has nothing checkpointed yet: a run ({holder}) is writing it; "
            "rerun when it has finished some architectures"
        )
    if not has_data:
        raise NasproxyError(f"no result store at {path}; run 'nasproxy-bench run' first or pass --store")

"""The result store: every proxy score with its provenance, in one HDF5 file.

Crash safety. No HDF5 file is ever modified in place: every file is written complete under a
temporary name and atomically renamed into place, so a kill at any moment leaves either the old
or the new file, never a broken one. Between checkpoints every finished architecture is appended
as one JSON line to ``<store>.journal`` (flushed per record); on the next open the journal is
replayed and nothing finished is computed again. A lock file (``fcntl.flock``, released by the
OS even on ``kill -9``) keeps two writers apart.

Checkpoints at scale (format 2). The store is the main file ``<store>`` plus, while a writer has
added records since the last full rewrite, immutable segment files ``<store>.segments/NNNNNN.h5``
(same layout, only the records of one checkpoint). A checkpoint writes one new segment holding
only the records added since the previous checkpoint, so its cost is proportional to what is new.
The segments are folded into a new main file (a "compaction": one full rewrite) when they hold as
many records as the main file, when there are ``MAX_SEGMENTS`` of them, or while the store is
small (under ``COMPACT_BELOW`` records, where a rewrite takes a fraction of a second): the main
file doubles between compactions, so every record is rewritten a bounded number of times on
average. The main file's ``segments_through`` attribute names the last segment it contains;
readers skip segments up to it, so a kill between the rename of a new main file and the deletion
of its segments loses and duplicates nothing (the leftovers are deleted by the next writer).

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
FORMAT_VERSION = 2  # 2: main file + segment files; 1 and unmarked files are read (and upgraded on the first checkpoint)
SEGMENTS_THROUGH_ATTR = "segments_through"
COMPACT_BELOW = 20_000  # records: a smaller store is rewritten whole at every checkpoint
MAX_SEGMENTS = 64
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
        self.segments_dir = self.real_path.with_name(self.real_path.name + ".segments")
        self.groups: dict[str, Group] = {}
        self.damaged_groups: list[str] = []
        self._damaged_in: dict[str, Path] = {}  # damaged group -> the file holding it
        self._main_version = 0  # format of the main file (0: none or unmarked)
        self._main_records = 0
        self._segments_through = 0  # last segment the main file contains
        self._segments: list[int] = []  # live segments (numbers above _segments_through)
        self._segment_records = 0
        self._fresh: dict[str, set[str]] = {}  # run key path -> archs added since the last checkpoint
        self.journal = JournalRead()
        self._warned: set[str] = set()
        self._lock_file = None
        self._journal = None
        self._unsaved = 0
        self._journaled_groups: set[str] = set()  # provenance goes on a group's first journal line only
        self._last_checkpoint = time.monotonic()
        self._loaded_state: tuple = ()
        self._load()

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> None:
        for _ in range(5):  # a compaction racing with this read deleted a listed segment: read again
            try:
                seen = self._files_state()
                self._load_once()
                self._loaded_state = seen
                return
            except _SegmentGone:
                time.sleep(0.05)
        self._loaded_state = self._files_state()
        self._load_once()

    def _files_state(self) -> tuple:
        """What identifies the files' contents (inode, size, mtime of main file, journal and segments)."""
        def stat(path: Path) -> tuple[int, int, int] | None:
            try:
                st = path.stat()
            except OSError:
                return None
            return st.st_ino, st.st_size, st.st_mtime_ns
        return (stat(self.real_path), stat(self.journal_path), tuple((n, stat(self._segment_path(n))) for n in self._list_segments()))

    def _load_once(self) -> None:
        # Journal, then segment list, then main file, then segments: a checkpoint racing with this
        # read only moves records from the journal into a segment, and a compaction only from
        # segments into the main file, each of which is read afterwards, so none is missed.
        self.journal = read_journal(self.journal_path)
        listed = self._list_segments()
        self.groups.clear()
        self.damaged_groups, self._damaged_in = [], {}
        self._main_version = self._main_records = self._segments_through = 0
        if self.real_path.exists():
            try:
                self._main_version, self._segments_through = self._load_file(self.real_path)
            except FileNotFoundError:
                raise _SegmentGone() from None  # moved away while reading: read again
            self._main_records = self.record_count()
        self._segments = [n for n in listed if n > self._segments_through]
        for number in self._segments:
            try:
                self._load_file(self._segment_path(number))
            except FileNotFoundError:
                raise _SegmentGone() from None
        self._segment_records = self.record_count() - self._main_records
        self._fresh = {}
        for key, arch, record, provenance in self.journal.entries:
            self._group(key, provenance).records[arch] = record
            self._fresh.setdefault(key.path, set()).add(arch)
        self._warn_about_damage()

    def _segment_path(self, number: int) -> Path:
        return self.segments_dir / f"{number:06d}.h5"

    def _list_segments(self) -> list[int]:
        try:
            names = [p.name for p in self.segments_dir.iterdir()]
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise DataError(f"cannot list {self.segments_dir} ({_reason(exc)}); check its permissions") from None
        return sorted(int(n[:-3]) for n in names if n.endswith(".h5") and n[:-3].isdigit())

    def _load_file(self, path: Path) -> tuple[int, int]:
        """Read one HDF5 file (main or segment) into ``groups``; returns its format and ``segments_through``."""
        if not path.exists() and path != self.real_path:
            raise FileNotFoundError(path)
        if path.is_dir():
            raise DataError(f"result store {self.path} is a directory, not a store file: pass a file path, "
                            f"e.g. --store {self.path / 'scores.h5'}")
        try:
            with h5py.File(path, "r") as h5:
                version = self._check_format(h5, path)
                h5.visititems(lambda name, obj: self._load_group(name, obj, path))
                return version, int(_attr(h5.attrs.get(SEGMENTS_THROUGH_ATTR, 0)))
        except FileNotFoundError:
            raise
        except OSError as exc:
            if not path.exists():
                raise FileNotFoundError(path) from None
            raise DataError(
                f"result store {self.path} is unreadable ({path.name}: {str(exc).splitlines()[0]}); it was left "
                f"unchanged: pass another --store, or move it aside (records in {self.journal_path.name} are kept)"
            ) from None

    def _check_format(self, h5: h5py.File, path: Path) -> int:
        shown = self.path if path == self.real_path else path
        marker = h5.attrs.get(FORMAT_ATTR)
        if marker is None:
            foreign = foreign_content(h5)
            if foreign is not None:
                raise DataError(
                    f"{shown} is an HDF5 file but not a nasproxy-bench result store (it holds {foreign}); "
                    "it was left unchanged: pass another --store"
                )
            return 0
        try:
            version = int(_attr(marker))
        except (TypeError, ValueError):
            raise DataError(f"{shown}: unreadable store format marker {marker!r}; pass another --store") from None
        if version > FORMAT_VERSION:
            raise DataError(
                f"{shown} is a result store of format {version}, newer than this nasproxy-bench reads "
                f"({FORMAT_VERSION}); upgrade nasproxy-bench"
            )
        return version

    def _load_group(self, name: str, obj: Any, source: Path) -> None:
        if not _is_run_group(obj):
            return
        try:
            key, provenance, records = read_run_group(obj)
        except (KeyError, ValueError, TypeError, OSError) as exc:
            if name not in self._damaged_in:
                self.damaged_groups.append(name)
            self._damaged_in[name] = source
            self._warn(f"warning: result store {self.path}: run group {name} is damaged "
                       f"({str(exc).strip(chr(39)).splitlines()[0][:120]}); it is skipped, every other group is served")
            return
        group = self._group(key, provenance)
        group.provenance.update(provenance)
        group.records.update(records)

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

    @property
    def exists(self) -> bool:
        """Anything stored yet: the main file, a journal (a new run's first records) or segments."""
        return self.real_path.exists() or self.journal_path.exists() or bool(self._list_segments())

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
            if self._files_state() != self._loaded_state:
                self._load()  # pick up anything written between construction and locking
            self._remove_leftovers()
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

    def _remove_leftovers(self) -> None:
        """Segments a compaction already folded into the main file, and temporary files of a killed checkpoint."""
        if not self.segments_dir.is_dir():
            return
        try:
            for path in self.segments_dir.iterdir():
                stem = path.name[:-3]
                if path.name.endswith(".tmp") or (path.name.endswith(".h5") and stem.isdigit() and int(stem) <= self._segments_through):
                    path.unlink()
        except OSError as exc:
            raise NasproxyError(f"cannot tidy {self.segments_dir} ({_reason(exc)}); pass --store a writable location") from None

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
        self._fresh.setdefault(key.path, set()).add(arch)
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
        """Save what the journal holds into a new segment (or, see the module notes, a new main file), then empty the journal.

        If the new file cannot be written (disk full, quota), every file already written and the
        journal stay as they were and a ``DataError`` says so.
        """
        fresh = sum(len(archs) for archs in self._fresh.values())
        if self._should_compact(fresh):
            self._compact()
        elif fresh:
            self._write_segment(fresh)
        if self._journal is not None:
            self._journal.truncate(0)
            self._journal.flush()
            self._journaled_groups.clear()  # provenance is in the HDF5 files now
        self._fresh = {}
        self._unsaved = 0
        self._last_checkpoint = time.monotonic()

    def _should_compact(self, fresh: int) -> bool:
        if not self.real_path.exists() or self._main_version < FORMAT_VERSION:
            return True  # first checkpoint, or an old-format main file (upgraded here)
        if self._main_records + self._segment_records + fresh < COMPACT_BELOW:
            return bool(fresh) or bool(self._segments)
        if not fresh:
            return False
        return self._segment_records + fresh >= self._main_records or len(self._segments) + 1 >= MAX_SEGMENTS

    def _compact(self) -> None:
        """Rewrite the main file with every record, then delete the segments it now contains."""
        through = max([self._segments_through, *self._list_segments()])
        image = self._file_image(self.groups, {SEGMENTS_THROUGH_ATTR: through} if through else {}, with_damaged=True)
        self._commit(image, self.real_path)
        for number in self._list_segments():
            if number <= through:
                self._segment_path(number).unlink(missing_ok=True)
        self._main_version, self._segments_through = FORMAT_VERSION, through
        self._main_records, self._segments, self._segment_records = self.record_count(), [], 0
        self._damaged_in = dict.fromkeys(self._damaged_in, self.real_path)

    def _write_segment(self, fresh: int) -> None:
        number = max([self._segments_through, *self._list_segments()]) + 1
        groups = {path: Group(self.groups[path].key, self.groups[path].provenance,
                              {arch: self.groups[path].records[arch] for arch in sorted(archs)})
                  for path, archs in self._fresh.items() if archs}
        try:
            self.segments_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise DataError(f"could not checkpoint result store {self.path} ({_reason(exc)}); the previous store and its "
                            "journal are intact: free space and rerun the same command to resume") from None
        self._commit(self._file_image(groups, {"segment": number}), self._segment_path(number))
        self._segments.append(number)
        self._segment_records += fresh

    def _commit(self, image: bytes, path: Path) -> None:
        """Write ``image`` to ``path`` through a temporary file, fsync and an atomic rename."""
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as handle:
                handle.write(image)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DataError(
                f"could not checkpoint result store {self.path} ({_reason(exc)}); the previous store and its journal "
                "are intact: free space and rerun the same command to resume"
            ) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _file_image(self, groups: dict[str, Group], root_attrs: dict[str, Any], *, with_damaged: bool = False) -> bytes:
        """An HDF5 file of ``groups`` as bytes, built in memory so that only plain file writes touch the disk.

        (HDF5 reports a full disk as a RuntimeError plus stray messages; a plain write gives one OSError.)
        """
        image = io.BytesIO()
        with h5py.File(image, "w") as h5:
            h5.attrs[FORMAT_ATTR] = FORMAT_VERSION
            for name, value in root_attrs.items():
                h5.attrs[name] = value
            for path, group in sorted(groups.items()):
                _write_group(h5.create_group(path), group)
            if with_damaged:
                for name in self.damaged_groups:
                    with h5py.File(self._damaged_in[name], "r") as old:
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


class _SegmentGone(Exception):
    """A file vanished while reading (a compaction folded a listed segment into the main file)."""


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems refuse directory fsync)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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

"""The result store: every proxy score with its provenance, in one HDF5 file.

Crash safety. The HDF5 file is never modified in place: a checkpoint writes a complete new
file beside it and atomically renames it over the old one, so a kill at any moment leaves
either the old or the new file, never a broken one. Between checkpoints every finished
architecture is appended as one JSON line to ``<store>.journal`` (flushed per record); on the
next open the journal is replayed, a torn last line is ignored, and nothing finished is
computed again. A lock file (``fcntl.flock``, released by the OS even on ``kill -9``) keeps two
writers apart.

Layout: one HDF5 group per run key ``benchmark/dataset/proxy/v<version>/sample<s>/bs<b>-seed<k>``
with datasets ``arch``, ``score``, ``wall_s``, ``status``, ``message`` (one row per architecture)
and provenance attributes.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from nasproxy_bench.errors import DataError, StoreBusyError

STATUS_OK = "ok"
STATUS_UNSUPPORTED = "unsupported"
STATUS_ERROR = "error"
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


def _decode(value: Any) -> float:
    return float(value)


class ResultStore:
    """Read access always; write access after ``open_for_writing`` (takes the lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.groups: dict[str, Group] = {}
        self._lock_file = None
        self._journal = None
        self._unsaved = 0
        self._journaled_groups: set[str] = set()  # provenance goes on a group's first journal line only
        self._last_checkpoint = time.monotonic()
        self._load()

    # -- reading ---------------------------------------------------------------------------
    def _load(self) -> None:
        if self.path.exists():
            try:
                with h5py.File(self.path, "r") as h5:
                    h5.visititems(self._load_group)
            except OSError as exc:
                raise DataError(
                    f"result store {self.path} is unreadable ({exc}); move it aside and rerun "
                    f"(finished records still in {self.journal_path.name} are kept)"
                ) from None
        self._replay_journal()

    def _load_group(self, name: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Group) or "arch" not in obj:
            return
        attrs = dict(obj.attrs)
        key = RunKey(**{f: _attr(attrs[f]) for f in RunKey.__dataclass_fields__})
        group = self._group(key, {k: _attr(v) for k, v in attrs.items()})
        archs = obj["arch"].asstr()[()]
        statuses = obj["status"].asstr()[()]
        messages = obj["message"].asstr()[()]
        for arch, score, wall, status, message in zip(
            archs, obj["score"][()], obj["wall_s"][()], statuses, messages, strict=True
        ):
            group.records[arch] = Record(float(score), float(wall), status, message)

    def _replay_journal(self) -> None:
        if not self.journal_path.exists():
            return
        with open(self.journal_path, encoding="utf-8") as journal:
            for line in journal:
                try:
                    entry = json.loads(line)
                    key = RunKey(**entry["key"])
                    record = Record(_decode(entry["score"]), float(entry["wall_s"]), entry["status"], entry["message"])
                except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue  # a line torn by a kill; its architecture is simply recomputed
                self._group(key, entry.get("provenance", {})).records[entry["arch"]] = record

    def _group(self, key: RunKey, provenance: dict[str, Any]) -> Group:
        group = self.groups.get(key.path)
        if group is None:
            group = self.groups[key.path] = Group(key, dict(provenance))
        return group

    def done(self, key: RunKey) -> dict[str, Record]:
        group = self.groups.get(key.path)
        return group.records if group else {}

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(self.lock_path, "a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise StoreBusyError(
                f"result store {self.path} is being written by {holder}; wait for it to finish "
                "or use another --store"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        self._lock_file = lock
        # pick up anything written between construction and locking
        self.groups.clear()
        self._load()
        self._journal = open(self.journal_path, "a", encoding="utf-8")
        return self

    def add(self, key: RunKey, arch: str, record: Record, provenance: dict[str, Any]) -> None:
        if self._journal is None:
            raise RuntimeError("store is not open for writing")
        group = self._group(key, provenance)
        group.provenance.update(provenance)
        group.records[arch] = record
        entry = {"key": asdict(key), "arch": arch, **asdict(record), "score": _encode(record.score)}
        if key.path not in self._journaled_groups:
            entry["provenance"] = provenance
            self._journaled_groups.add(key.path)
        self._journal.write(json.dumps(entry) + "\n")
        self._journal.flush()
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
        """Write everything to a new HDF5 file, swap it in atomically, then empty the journal."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with h5py.File(tmp, "w") as h5:
            for path, group in sorted(self.groups.items()):
                _write_group(h5.create_group(path), group)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        if self._journal is not None:
            self._journal.truncate(0)
            self._journal.flush()
            self._journaled_groups.clear()  # provenance is in the HDF5 file now
        self._unsaved = 0
        self._last_checkpoint = time.monotonic()

    def close(self) -> None:
        if self._journal is not None:
            self.checkpoint()
            self._journal.close()
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


def _attr(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


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

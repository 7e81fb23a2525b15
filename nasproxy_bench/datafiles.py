"""The data manifest (``data_manifest.json``) and ``nasproxy-bench data status``.

The manifest lists, per group of benchmarks, the files the data root should hold (with what each
enables) and the official files they come from (URL, size, checksum, how to unpack and import).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from nasproxy_bench.errors import DataError, UnknownNameError

MANIFEST = "data_manifest.json"


@dataclass(frozen=True)
class Expected:
    path: str
    enables: str
    optional: bool = False


@dataclass(frozen=True)
class OfficialFile:
    """One official file: where it comes from, how it is checked, where it goes."""

    name: str
    url: str | None
    page: str
    dest: str
    note: str = ""
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    md5_suffix: str | None = None  # the publisher names the file after the tail of its MD5
    unpack: str | None = None  # "tar" or "zip"
    unpack_to: str | None = None
    import_benchmark: str | None = None
    import_source: str | None = None
    optional: bool = False

    @property
    def known_hash(self) -> str | None:
        """The checksum in pooch's notation ('sha256:...' or 'md5:...'), or None."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        return f"md5:{self.md5}" if self.md5 else None


@dataclass(frozen=True)
class Group:
    name: str
    title: str
    benchmarks: tuple[str, ...]
    requires: tuple[str, ...]
    expected: tuple[Expected, ...]
    downloads: tuple[OfficialFile, ...] = field(default_factory=tuple)

    def covers(self, benchmark: str) -> bool:
        return any(fnmatch.fnmatchcase(benchmark, pattern) for pattern in self.benchmarks)


def _official(entry: dict[str, Any]) -> OfficialFile:
    imp = entry.get("import") or {}
    return OfficialFile(
        name=entry["name"], url=entry.get("url"), page=entry.get("page", ""), dest=entry["dest"], note=entry.get("note", ""),
        size=entry.get("size"), sha256=entry.get("sha256"), md5=entry.get("md5"), md5_suffix=entry.get("md5_suffix"),
        unpack=entry.get("unpack"), unpack_to=entry.get("unpack_to"), import_benchmark=imp.get("benchmark"),
        import_source=imp.get("source"), optional=bool(entry.get("optional", False)),
    )


def parse_manifest(data: dict[str, Any]) -> dict[str, Group]:
    """Groups of a manifest dict; ``DataError`` names a malformed entry."""
    groups = {}
    try:
        for name, spec in data["groups"].items():
            groups[name] = Group(
                name, spec["title"], tuple(spec["benchmarks"]), tuple(spec.get("requires", ())),
                tuple(Expected(e["path"], e["enables"], bool(e.get("optional", False))) for e in spec["expected"]),
                tuple(_official(d) for d in spec.get("downloads", ())),
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"data manifest is malformed (missing or wrong field {exc}); reinstall nasproxy-bench") from None
    for group in groups.values():
        unknown = [r for r in group.requires if r not in groups]
        if unknown:
            raise DataError(f"data manifest: group {group.name} requires unknown group(s) {', '.join(unknown)}")
    return groups


def load_manifest() -> dict[str, Group]:
    text = resources.files("nasproxy_bench").joinpath(MANIFEST).read_text(encoding="utf-8")
    return parse_manifest(json.loads(text))


def select_groups(groups: dict[str, Group], name: str) -> list[Group]:
    """The group called ``name``, or every group covering benchmark ``name``, plus what they require; 'all': all."""
    if name == "all":
        chosen = list(groups.values())
    elif name in groups:
        chosen = [groups[name]]
    else:
        chosen = [g for g in groups.values() if g.covers(name) and g.name not in ("cifar10", "cifar100", "ptb")]
        if not chosen:
            raise UnknownNameError("benchmark or data group", name, ["all", *groups])
    ordered: list[Group] = []

    def add(group: Group) -> None:
        for required in group.requires:
            add(groups[required])
        if group not in ordered:
            ordered.append(group)

    for group in chosen:
        add(group)
    return ordered


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def describe(path: Path, checksums: bool = True) -> str:
    """'missing', or size and SHA-256 of a file, or the file count and size of a folder."""
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        return f"folder, {len(files)} files, {_human(sum(p.stat().st_size for p in files))}"
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if not checksums:
        return _human(size)
    try:
        return f"{_human(size)}, sha256 {file_digest(path)}"
    except OSError as exc:
        return f"{_human(size)}, unreadable ({exc.strerror or exc})"


def status_lines(groups: list[Group], data_root: Path, checksums: bool = True) -> list[str]:
    """Per group: every expected file present or missing (size, SHA-256, what it enables) and the official files."""
    lines = [f"data root: {data_root}"]
    for group in groups:
        lines += ["", f"{group.name}: {group.title} (benchmarks: {', '.join(group.benchmarks)})"]
        for item in group.expected:
            found = describe(data_root / item.path, checksums)
            state = "missing " if found == "missing" else "present "
            tag = " (optional)" if item.optional else ""
            lines.append(f"  {state}{item.path}{tag}" + ("" if found == "missing" else f": {found}"))
            lines.append(f"           enables: {item.enables}")
        for official in group.downloads:
            here = data_root / official.dest
            check = (f"sha256 {official.sha256}" if official.sha256 else f"md5 {official.md5} (publisher)" if official.md5
                     else "no published checksum")
            state = "downloaded" if here.is_file() else "not downloaded"
            if here.is_file() and checksums and (official.sha256 or official.md5):
                algorithm, expected = ("sha256", official.sha256) if official.sha256 else ("md5", official.md5)
                same = file_digest(here, algorithm) == expected
                state += ", checksum ok" if same else ", CHECKSUM MISMATCH (delete it and download again)"
            how = official.url or f"by hand from {official.page}"
            lines.append(f"  official {official.name}{' (optional)' if official.optional else ''}: {state}; {check}; {how}")
        lines.append(f"  get it: nasproxy-bench data download {group.name}")
    return lines

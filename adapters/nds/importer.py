"""``import nds``: the CIFAR-10 spaces of the official NDS release into normalized tables.

The source is the release folder (``<Space>.json`` files, as in the NDS repository's data
download) or a zip of it. Each CIFAR-10 space found becomes ``benchmarks/nds/cifar10/<Space>.csv``
(columns of ``entries.COLUMNS``). ImageNet files (``*_in.json``) and the rerun files are read
as they come from ``benchmarks/nds/`` and are not imported.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from nasproxy_bench.adapters.nds.entries import entries_frame, official_entries
from nasproxy_bench.errors import DataError

if TYPE_CHECKING:
    from nasproxy_bench.adapters.nds.benchmark import NDSBenchmark


def _members(source: Path) -> dict[str, Any]:
    """File name -> a reader of that JSON, for a folder or a zip."""
    if not source.exists():
        raise DataError(f"{source} does not exist; give the official NDS data folder or its zip")
    if source.is_dir():
        return {p.name: p for p in source.rglob("*.json")}
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            return {Path(n).name: (source, n) for n in archive.namelist() if n.endswith(".json")}
    raise DataError(f"{source}: expected the official NDS data folder or a zip of it")


def _load(member: Any, where: str) -> Any:
    try:
        if isinstance(member, Path):
            text = member.read_text(encoding="utf-8")
        else:
            with zipfile.ZipFile(member[0]) as archive:
                text = archive.read(member[1]).decode("utf-8")
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, zipfile.BadZipFile) as exc:
        raise DataError(f"{where}: unreadable NDS JSON ({exc}); download the release again") from None


def _space_frame(bench: NDSBenchmark, members: dict[str, Any], source: Path) -> pd.DataFrame | None:
    name = f"{bench.stem}.json"
    if name not in members or bench.reruns:
        return None
    where = f"{source}:{name}"
    data = _load(members[name], where)
    frame = entries_frame(official_entries(data, Path(where)), where, with_optim=bench.with_optim, classes=10)
    return frame


def import_space(bench: NDSBenchmark, source: Path) -> pd.DataFrame:
    frame = _space_frame(bench, _members(source), source)
    if frame is None:
        raise DataError(f"{source}: no CIFAR-10 file {bench.stem}.json for {bench.name}")
    return frame


def import_family(spaces: list[NDSBenchmark], source: Path) -> list[tuple[pd.DataFrame, Path]]:
    from nasproxy_bench.adapters.nds.benchmark import CIFAR_FOLDER

    members = _members(source)
    out = []
    for bench in spaces:
        frame = _space_frame(bench, members, source)
        if frame is not None:
            out.append((frame, bench.data_root / CIFAR_FOLDER / f"{bench.stem}.csv"))
    if not out:
        raise DataError(f"{source}: no CIFAR-10 NDS space files (<Space>.json) found")
    return out

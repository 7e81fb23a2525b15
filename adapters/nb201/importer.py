"""Importers that turn the official NB201 / NATS-tss files into the normalized ``nb201.csv``.

Both official formats store, per architecture and training schedule, an ``ArchResults`` record:
``{'arch_index', 'arch_str', 'all_results': {(dataset, seed): results}, ...}`` where ``results``
holds ``eval_acc1es`` keyed ``'<split>@<epoch>'``, ``params`` (M) and ``flop`` (M).
We read the records as plain data (no benchmark code is imported or executed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load, safe_torch_load

# (dataset key in the record, evaluation split, output column)
ACCURACY_COLUMNS = (
    ("cifar10", "ori-test", "cifar10/test_acc"),
    ("cifar100", "x-test", "cifar100/test_acc"),
    ("ImageNet16-120", "x-test", "ImageNet16-120/test_acc"),
    ("cifar10-valid", "x-valid", "cifar10-valid/valid_acc"),
    ("cifar10-valid", "ori-test", "cifar10-valid/test_acc"),
)
COST_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def _final_accuracy(results: Mapping[str, Any], split: str, epochs: int) -> float:
    key = f"{split}@{epochs - 1}"
    accs = results.get("eval_acc1es") or {}
    if key not in accs:
        return float("nan")
    return float(accs[key])


def record_to_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One normalized table row from one ``ArchResults`` record (final epoch, mean over seeds)."""
    try:
        all_results = record["all_results"]
        row: dict[str, Any] = {"index": int(record["arch_index"]), "arch": str(record["arch_str"])}
    except (KeyError, TypeError) as exc:
        raise DataError(f"record lacks {exc}; not an NB201/NATS-tss ArchResults record") from None
    for dataset, split, column in ACCURACY_COLUMNS:
        values = [
            _final_accuracy(res, split, int(res["epochs"]))
            for (name, _seed), res in all_results.items()
            if name == dataset
        ]
        values = [v for v in values if not np.isnan(v)]
        row[column] = float(np.mean(values)) if values else float("nan")
    for dataset in COST_DATASETS:
        matching = [res for (name, _seed), res in all_results.items() if name == dataset]
        if matching:
            row[f"{dataset}/params_M"] = float(matching[0]["params"])
            row[f"{dataset}/flops_M"] = float(matching[0]["flop"])
    return row


def _nats_records(directory: Path, hp: str, trust: bool) -> Iterable[Mapping[str, Any]]:
    files = sorted(p for p in directory.glob("*.pickle.pbz2") if p.name != "meta.pickle.pbz2")
    if not files:
        raise DataError(f"{directory}: no NNNNNN.pickle.pbz2 records; expected the NATS-tss-v1_0-3ffb9-simple folder")
    for path in files:
        data = safe_load(path, allow_unsafe=trust)
        if hp not in data:
            raise DataError(f"{path}: no results for the {hp}-epoch schedule (has {sorted(data)})")
        yield data[hp]


PTH_SCHEDULES = {"200": "full", "12": "less"}  # NB201 .pth: arch2infos[index] = {'less': 12-epoch, 'full': 200-epoch}


def _pth_records(path: Path, hp: str, trust: bool) -> Iterable[Mapping[str, Any]]:
    """The ``ArchResults`` records of an official NAS-Bench-201 ``.pth`` (``{'meta_archs', 'arch2infos', ...}``).

    Loaded with the restricted unpickler; a file that needs more is refused unless ``trust`` (``--trust-pickles``).
    """
    if hp not in PTH_SCHEDULES:
        raise DataError(f"{path}: an NB201 .pth holds the 12- and 200-epoch schedules; --hp {hp} is neither")
    data = safe_torch_load(path, allow_unsafe=trust)
    try:
        infos, meta = data["arch2infos"], data["meta_archs"]
    except (KeyError, TypeError):
        raise DataError(f"{path}: no 'arch2infos'/'meta_archs'; not a NAS-Bench-201 .pth file") from None
    for index in sorted(infos):
        try:
            record = infos[index][PTH_SCHEDULES[hp]]
        except (KeyError, TypeError):
            raise DataError(f"{path}: architecture {index} has no '{PTH_SCHEDULES[hp]}' ({hp}-epoch) results") from None
        if not 0 <= int(index) < len(meta) or meta[int(index)] != record.get("arch_str"):
            raise DataError(f"{path}: architecture {index} is {record.get('arch_str')!r} in arch2infos but not in meta_archs; "
                            "damaged file: download it again")
        yield record


def import_nb201(source: Path, *, hp: str = "200", trust_pickles: bool = False) -> pd.DataFrame:
    """Normalized NB201 table from a NATS-tss 'simple' directory or an NB201 ``.pth`` file."""
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source} does not exist; give the NATS-tss folder or the NB201 .pth file")
    if source.is_dir():
        records = _nats_records(source, hp, trust_pickles)
    elif source.suffix == ".pth":
        records = _pth_records(source, hp, trust_pickles)
    else:
        raise DataError(f"{source}: expected a NATS-tss folder or an NB201 .pth file")
    frame = pd.DataFrame([record_to_row(r) for r in records])
    return frame.sort_values("index").reset_index(drop=True)

"""Importer of the official ``NATS-sss-v1_0-50262-simple`` folder into ``nats_sss.csv``.

The folder holds one ``NNNNNN.pickle.pbz2`` per architecture and ``meta.pickle.pbz2``. An
architecture file maps each training schedule (``'01'``, ``'12'``, ``'90'`` epochs) to an
``ArchResults`` record with the NATS-tss structure: ``arch_index``, ``arch_str`` (the channel
string) and ``all_results[(dataset, seed)]`` holding ``eval_acc1es`` (``'<split>@<epoch>'``),
``params`` and ``flop`` (millions) and ``latency`` (a list of seconds). Everything is read
through the safe unpickler; no benchmark code runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasproxy_bench.adapters.nats_sss.arch import NATSSizeArch, enumerate_archs
from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load

SCHEDULES = ("01", "12", "90")
DEFAULT_SCHEDULE = "90"
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
# (dataset key in the record, evaluation split, output column); the same splits the NATS API reports
ACCURACY_COLUMNS = (
    ("cifar10", "ori-test", "cifar10/test_acc"),
    ("cifar100", "x-valid", "cifar100/valid_acc"),
    ("cifar100", "x-test", "cifar100/test_acc"),
    ("ImageNet16-120", "x-valid", "ImageNet16-120/valid_acc"),
    ("ImageNet16-120", "x-test", "ImageNet16-120/test_acc"),
    ("cifar10-valid", "x-valid", "cifar10-valid/valid_acc"),
    ("cifar10-valid", "ori-test", "cifar10-valid/test_acc"),
)
META = "meta.pickle.pbz2"


def normalize_schedule(hp: str) -> str:
    """``'1'``/``'01'``, ``'12'`` or ``'90'`` -> the key used in the files."""
    text = str(hp).strip()
    key = text.zfill(2) if text.isdigit() else text
    if key not in SCHEDULES:
        raise DataError(f"NATS-sss has no {hp!r}-epoch schedule; use --hp 01, 12 or 90 (default {DEFAULT_SCHEDULE})")
    return key


def _seed_results(record: Mapping[str, Any], dataset: str) -> list[Mapping[str, Any]]:
    return [res for (name, _seed), res in record["all_results"].items() if name == dataset]


def _final_accuracy(results: Mapping[str, Any], split: str) -> float:
    accs = results.get("eval_acc1es") or {}
    value = accs.get(f"{split}@{int(results['epochs']) - 1}")
    return float("nan") if value is None else float(value)


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def record_to_row(record: Mapping[str, Any], source: str = "record") -> dict[str, Any]:
    """One table row from one ``ArchResults`` record: final-epoch accuracies and latency averaged over seeds."""
    try:
        arch_text, index = str(record["arch_str"]), int(record["arch_index"])
        record["all_results"].items()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{source}: lacks {exc}; not a NATS-sss ArchResults record") from None
    try:
        arch = NATSSizeArch.parse(arch_text)
    except ValueError as exc:
        raise DataError(f"{source}: arch_str is not a size-space channel string ({exc}); "
                        "is this the NATS-tss folder? (import it with 'import nb201')") from None
    if arch.index != index:
        raise DataError(f"{source}: arch_index {index} does not match arch_str {arch_text!r} (index {arch.index})")
    row: dict[str, Any] = {"index": index, "arch": str(arch)}
    try:
        for dataset, split, column in ACCURACY_COLUMNS:
            row[column] = _mean([_final_accuracy(res, split) for res in _seed_results(record, dataset)])
        for dataset in DATASETS:
            results = _seed_results(record, dataset)
            if not results:
                continue
            row[f"{dataset}/params_M"] = float(results[0]["params"])
            row[f"{dataset}/flops_M"] = float(results[0]["flop"])
            row[f"{dataset}/latency_s"] = _mean([_mean([float(v) for v in res.get("latency") or []]) for res in results])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{source}: malformed results ({type(exc).__name__}: {exc}); download the file again") from None
    return row


def read_arch_file(path: Path, hp: str, *, trust_pickles: bool = False) -> Mapping[str, Any]:
    """The ``hp``-epoch record of one ``NNNNNN.pickle.pbz2`` file, checked against its file name."""
    data = safe_load(path, allow_unsafe=trust_pickles)
    if not isinstance(data, Mapping):
        raise DataError(f"{path}: holds a {type(data).__name__}, not a NATS-sss architecture file")
    if hp not in data:
        raise DataError(f"{path}: no results for the {hp}-epoch schedule (has {sorted(map(str, data))})")
    return data[hp]


def check_meta(path: Path, *, trust_pickles: bool = False) -> None:
    """``meta.pickle.pbz2`` lists every channel string in official order: it must equal ours."""
    meta = safe_load(path, allow_unsafe=trust_pickles)
    try:
        archs = [str(a) for a in meta["meta_archs"]]
    except (KeyError, TypeError):
        raise DataError(f"{path}: no 'meta_archs' list; not the NATS-sss meta file") from None
    ours = enumerate_archs()
    if archs != ours:
        first = next((i for i, (a, b) in enumerate(zip(archs, ours, strict=False)) if a != b), min(len(archs), len(ours)))
        raise DataError(f"{path}: architecture order differs from the official index at position {first} "
                        f"({len(archs)} archs listed); not the NATS-sss v1.0 meta file")


def import_nats_sss(source: Path, *, hp: str = DEFAULT_SCHEDULE, trust_pickles: bool = False) -> pd.DataFrame:
    """Normalized table from the official NATS-sss 'simple' folder (every record in it)."""
    source = Path(source)
    hp = normalize_schedule(hp)
    if not source.exists():
        raise DataError(f"{source} does not exist; give the NATS-sss-v1_0-50262-simple folder")
    if not source.is_dir():
        raise DataError(f"{source}: expected the NATS-sss-v1_0-50262-simple folder (one .pickle.pbz2 per architecture)")
    meta = source / META
    if meta.exists():
        check_meta(meta, trust_pickles=trust_pickles)
    files = sorted(p for p in source.glob("*.pickle.pbz2") if p.name != META)
    if not files:
        raise DataError(f"{source}: no NNNNNN.pickle.pbz2 records; expected the NATS-sss-v1_0-50262-simple folder")
    rows = []
    for path in files:
        row = record_to_row(read_arch_file(path, hp, trust_pickles=trust_pickles), str(path))
        stem = path.name.split(".")[0]
        if stem.isdigit() and int(stem) != row["index"]:
            raise DataError(f"{path}: holds architecture {row['index']}, but its name says {int(stem)}; the folder is mixed up")
        rows.append(row)
    frame = pd.DataFrame(rows)
    duplicated = frame["index"][frame["index"].duplicated()]
    if len(duplicated):
        raise DataError(f"{source}: architecture {int(duplicated.iloc[0])} appears in more than one file; the folder is mixed up")
    return frame.sort_values("index").reset_index(drop=True)

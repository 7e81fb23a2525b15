"""Normalize the official TransNAS-Bench-101 file (``transnas-bench_v10141024.pth``) into our tables.

The official file is a ``torch.save`` of plain containers (read here through
``nasproxy_bench.safe_pickle``; nothing of the benchmark's code is imported or run)::

    {'task_list': [7 task names], 'info_names': [...], 'metrics_dict': {task: [metric names]},
     'data': {'macro' | 'micro': {arch string: {task: {'total_epochs': int,
                                                     'model_info': {info name: value},
                                                     'metrics': {metric name: [value per epoch]}}}}}}

Our table per space (``benchmarks/transnas/tnb101_<space>.csv``) has the final-epoch value of
each task's validation metric, the best epoch's value as the second metric (segmentsemantic:
best mIoU), and the official ``model_info`` counts (``<task>/model_params``,
``<task>/model_FLOPs``, ``<task>/encoder_params``, ``<task>/encoder_FLOPs``) where present.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_torch_load

SPACES = ("micro", "macro")
# task -> (official metric read at the final epoch, our column; official metric whose best epoch is kept, our column)
TASK_COLUMNS: dict[str, tuple[str, str, str, str]] = {
    "class_scene": ("valid_top1", "valid_top1", "valid_top1", "best_valid_top1"),
    "class_object": ("valid_top1", "valid_top1", "valid_top1", "best_valid_top1"),
    "jigsaw": ("valid_top1", "valid_top1", "valid_top1", "best_valid_top1"),
    "room_layout": ("valid_neg_loss", "valid_neg_loss", "valid_neg_loss", "best_valid_neg_loss"),
    "segmentsemantic": ("valid_acc", "valid_acc", "valid_mIoU", "best_miou"),
    "normal": ("valid_ssim", "valid_ssim", "valid_ssim", "best_valid_ssim"),
    "autoencoder": ("valid_ssim", "valid_ssim", "valid_ssim", "best_valid_ssim"),
}
INFO_NAMES = ("model_params", "model_FLOPs", "encoder_params", "encoder_FLOPs")


def read_official(path: Path, *, allow_unsafe: bool = False) -> Mapping[str, Any]:
    """The official database dict, checked for the keys we read (one-line errors otherwise)."""
    database = safe_torch_load(Path(path), allow_unsafe=allow_unsafe)
    if not isinstance(database, Mapping) or not isinstance(database.get("data"), Mapping):
        raise DataError(f"{path}: no 'data' dict; not the official TransNAS-Bench-101 .pth (transnas-bench_v10141024.pth)")
    spaces = [s for s in SPACES if isinstance(database["data"].get(s), Mapping)]
    if not spaces:
        raise DataError(f"{path}: 'data' has neither a 'micro' nor a 'macro' space (keys: {sorted(map(str, database['data']))[:5]})")
    return database


def _series(record: Mapping[str, Any], metric: str, where: str) -> list[float]:
    values = record.get("metrics", {}).get(metric) if isinstance(record, Mapping) else None
    if not isinstance(values, (list, tuple)) or not values:
        raise DataError(f"{where}: no per-epoch '{metric}' list (truncated or not the official file?)")
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        raise DataError(f"{where}: '{metric}' holds non-numbers") from None


def _best(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else float("nan")


def arch_row(arch: str, results: Mapping[str, Any], where: str) -> dict[str, Any]:
    """One table row from one architecture's official results (tasks it lacks stay empty)."""
    row: dict[str, Any] = {"arch": str(arch)}
    if not isinstance(results, Mapping):
        raise DataError(f"{where}: results of {arch} are not a dict of tasks")
    for task, (final_metric, final_col, best_metric, best_col) in TASK_COLUMNS.items():
        record = results.get(task)
        if record is None:
            continue
        row[f"{task}/{final_col}"] = _series(record, final_metric, f"{where} {arch}/{task}")[-1]
        row[f"{task}/{best_col}"] = _best(_series(record, best_metric, f"{where} {arch}/{task}"))
        info = record.get("model_info") or {}
        for name in INFO_NAMES:
            if name in info:
                row[f"{task}/{name}"] = float(info[name])
    return row


def space_table(database: Mapping[str, Any], space: str, source: str) -> pd.DataFrame:
    """The normalized table of ``space`` ('micro' or 'macro'), rows in the official order."""
    archs = database["data"].get(space)
    if not isinstance(archs, Mapping) or not archs:
        raise DataError(f"{source}: no '{space}' architectures in the official file")
    rows = [arch_row(arch, results, f"{source} [{space}]") for arch, results in archs.items()]
    frame = pd.DataFrame(rows)
    missing = [f"{t}/{c}" for t, (_, c, _, _) in TASK_COLUMNS.items() if f"{t}/{c}" not in frame.columns]
    if missing:
        raise DataError(f"{source} [{space}]: no architecture has results for {missing}; not the full official file?")
    return frame


__all__ = ["read_official", "space_table", "arch_row", "TASK_COLUMNS", "SPACES"]

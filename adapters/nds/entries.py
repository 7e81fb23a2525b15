"""Reading the official NDS JSON files into one normalized table per (space, dataset).

Official files: a list of entries (``<Space>_in.json`` for ImageNet, ``<Space>.json`` for
CIFAR-10), or ``{"top": [...], "mid": [...]}`` for the rerun files (two nets, 100 seeds each).
An entry has ``net``, ``optim``, ``params``, ``flops``, ``test_ep_top1`` (per-epoch top-1
*error*, %) and ``min_test_top1`` (its minimum). Rows of the table:

- ``arch``: canonical string (net, plus the optimizer settings in the lr-wd spaces);
- ``params``, ``flops``: official counts; ``test_acc`` = 100 - min_test_top1 (best epoch, the
  default ground truth, as in the NDS paper); ``final_acc`` = 100 - last test_ep_top1;
- ``diverged``: the run ended at chance (best error NaN or within 1 point of the chance error
  100 - 100 / classes); such rows stay in the table but their ground truth is NaN;
- ``rng_seed``, ``job_id``, ``group`` (``top``/``mid`` in rerun files, else empty).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from nasproxy_bench.adapters.nds.arch import arch_from_entry
from nasproxy_bench.errors import DataError

COLUMNS = ("arch", "params", "flops", "test_acc", "final_acc", "diverged", "rng_seed", "job_id", "group")
CHANCE_MARGIN = 1.0  # points of error below chance still counted as diverged


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise DataError(f"missing NDS file {path}; place the official NDS JSON there or import it")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); download the official NDS file again") from None


def official_entries(data: Any, path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(group, entry) pairs of a list file or a top/mid rerun file."""
    if isinstance(data, list):
        return [("", e) for e in data]
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        return [(group, e) for group, items in data.items() for e in items]
    raise DataError(f"{path}: expected a list of NDS entries or {{'top': [...], 'mid': [...]}}")


def _error(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


def entry_row(entry: Any, *, with_optim: bool, classes: int) -> dict[str, Any]:
    """One normalized row; ValueError names what is wrong with the entry."""
    if not isinstance(entry, dict):
        raise ValueError(f"an entry must be a JSON object, got {type(entry).__name__}")
    missing = [k for k in ("net", "params", "flops", "min_test_top1", "test_ep_top1") if k not in entry]
    if missing:
        raise ValueError(f"entry lacks {missing}")
    if with_optim and not isinstance(entry.get("optim"), dict):
        raise ValueError("entry of an lr-wd space lacks its 'optim' dict")
    arch = arch_from_entry(entry["net"], entry["optim"] if with_optim else None)
    epochs = entry["test_ep_top1"]
    if not isinstance(epochs, list) or not epochs:
        raise ValueError("'test_ep_top1' must be a non-empty list of per-epoch errors")
    best, last = _error(entry["min_test_top1"]), _error(epochs[-1])
    chance_error = 100.0 - 100.0 / classes
    diverged = math.isnan(best) or best >= chance_error - CHANCE_MARGIN
    return {
        "arch": str(arch), "params": int(entry["params"]), "flops": int(entry["flops"]),
        "test_acc": 100.0 - best, "final_acc": 100.0 - last, "diverged": diverged,
        "rng_seed": entry.get("rng_seed"), "job_id": str(entry.get("job_id", "")),
    }


def entries_frame(items: Iterable[tuple[str, Any]], where: str, *, with_optim: bool, classes: int) -> pd.DataFrame:
    rows = []
    for k, (group, entry) in enumerate(items):
        try:
            row = entry_row(entry, with_optim=with_optim, classes=classes)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{where}: entry {k}: {exc}") from None
        row["group"] = group
        rows.append(row)
    if not rows:
        raise DataError(f"{where}: no entries")
    return pd.DataFrame(rows, columns=list(COLUMNS))


def duplicates(frame: pd.DataFrame, *, repeats_expected: bool = False) -> dict[str, int]:
    """Canonical strings that occur more than once, with their counts (reported, never merged)."""
    if repeats_expected:
        return {}
    return {arch: n for arch, n in Counter(frame["arch"]).items() if n > 1}

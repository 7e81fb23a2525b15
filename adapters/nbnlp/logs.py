"""Read the official NAS-Bench-NLP training logs (one JSON per trained recepie) into one table.

Sources accepted: the release's ``train_logs.tar.gz`` (or any .tar/.tar.gz holding the folders
below) and a folder holding ``train_logs_single_run/`` (PTB) and/or ``train_logs_wikitext-2/``,
or a folder of the JSON logs of one dataset (its name says which: ``wikitext`` in the path →
wikitext2, else PTB). The tarball is streamed (no extraction).

One row per log (a recepie may have several runs): ``dataset``, ``recepie_id``, ``experiment_id``, ``arch`` (canonical string), ``status``,
``num_params``, final-epoch and best test/validation log-perplexity, validation log-perplexity
after 1, 3 and 10 epochs, and the number of epochs logged. A failed run (status other than
``OK``, or a NaN/missing loss) keeps its row with NaN losses, so failures stay counted.
"""

from __future__ import annotations

import json
import math
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from nasproxy_bench.adapters.nbnlp.arch import Recepie
from nasproxy_bench.errors import DataError

FOLDERS = {"train_logs_single_run": "ptb", "train_logs_wikitext-2": "wikitext2"}
EPOCHS = 50
EARLY_EPOCHS = (1, 3, 10)
LOG_COLUMNS = (
    "dataset", "recepie_id", "experiment_id", "arch", "status", "ok", "num_params", "epochs_logged",
    "test_logppl", "valid_logppl", "best_test_logppl", "best_valid_logppl",
    *(f"valid_logppl_ep{e}" for e in EARLY_EPOCHS),
)


def dataset_of(member: str) -> str | None:
    """Which dataset a log path belongs to (None when it is not a log)."""
    parts = member.replace("\\", "/").split("/")
    if not parts[-1].endswith(".json"):
        return None
    for folder, name in FOLDERS.items():
        if folder in parts:
            return name
    return None


def _losses(log: dict[str, Any], key: str) -> list[float]:
    values = log.get(key) or []
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return []


def log_to_row(log: dict[str, Any], dataset: str, where: str) -> dict[str, Any]:
    """One table row from one official log; a malformed log is a ``DataError`` naming it."""
    try:
        recepie_id = int(log["recepie_id"])
        num_params = int(log["num_params"])
        status = str(log["status"])
        text = log["recepie"]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"{where}: not a NAS-Bench-NLP log (bad or missing {exc}); use the official train_logs") from None
    try:
        arch = str(Recepie.parse(text))
    except ValueError as exc:
        raise DataError(f"{where}: recepie {recepie_id} is malformed: {exc}") from None
    test, valid = _losses(log, "test_losses"), _losses(log, "val_losses")
    complete = len(test) == EPOCHS and len(valid) == EPOCHS and not any(math.isnan(v) for v in test + valid)
    ok = status == "OK" and complete
    nan = float("nan")
    row: dict[str, Any] = {
        "dataset": dataset, "recepie_id": recepie_id, "experiment_id": str(log.get("experiment_id", "")),
        "arch": arch, "status": status, "ok": ok,
        "num_params": num_params, "epochs_logged": len(valid),
        "test_logppl": test[-1] if ok else nan,
        "valid_logppl": valid[-1] if ok else nan,
        "best_test_logppl": min(test) if ok else nan,
        "best_valid_logppl": min(valid) if ok else nan,
    }
    for epoch in EARLY_EPOCHS:
        early = valid[epoch - 1] if len(valid) >= epoch else nan
        row[f"valid_logppl_ep{epoch}"] = early if ok else nan
    return row


def _from_tar(path: Path) -> Iterator[tuple[dict[str, Any], str, str]]:
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                dataset = dataset_of(member.name) if member.isfile() else None
                if dataset is None:
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                yield _decode(handle.read(), f"{path}:{member.name}"), dataset, f"{path}:{member.name}"
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError(f"{path}: unreadable or truncated tar ({exc}); download train_logs again") from None


def _from_folder(path: Path) -> Iterator[tuple[dict[str, Any], str, str]]:
    files = sorted(path.rglob("*.json"))
    for file in files:
        dataset = dataset_of(str(file.relative_to(path.parent)))
        if dataset is None:
            dataset = "wikitext2" if "wikitext" in str(file).lower() else "ptb"
        yield _decode(file.read_bytes(), str(file)), dataset, str(file)


def _decode(data: bytes, where: str) -> dict[str, Any]:
    try:
        log = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: not valid JSON ({exc}); the log is truncated or corrupt") from None
    if not isinstance(log, dict):
        raise DataError(f"{where}: expected a JSON object (one NAS-Bench-NLP log)")
    return log


def read_logs(source: Path) -> pd.DataFrame:
    """Every log under ``source`` (tarball or folder) as a table with ``LOG_COLUMNS``."""
    source = Path(source)
    if source.is_dir():
        records = _from_folder(source)
    elif source.is_file():
        records = _from_tar(source)
    else:
        raise DataError(f"{source}: no such file or folder; pass the official train_logs.tar.gz or its folder")
    rows = [log_to_row(log, dataset, where) for log, dataset, where in records]
    if not rows:
        raise DataError(f"{source}: no NAS-Bench-NLP logs (expected train_logs_single_run/*.json)")
    frame = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    dup = frame.duplicated(["dataset", "recepie_id", "experiment_id"])
    if dup.any():
        first = frame[dup].iloc[0]
        raise DataError(f"{source}: run {first.experiment_id} of recepie {first.recepie_id} appears twice; mixed copies of the logs?")
    return frame.sort_values(["dataset", "recepie_id", "experiment_id"], kind="stable").reset_index(drop=True)


__all__ = ["read_logs", "log_to_row", "LOG_COLUMNS", "EARLY_EPOCHS", "FOLDERS"]

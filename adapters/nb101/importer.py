"""Turn the official NB101 TFRecord (``nasbench_only108.tfrecord`` or ``nasbench_full.tfrecord``)
into the normalized ``nb101.csv``.

Each record is one training run: a JSON list ``[hash, epochs, adjacency ("0101..." row-major),
operations ("input,conv3x3-bn-relu,...,output"), base64 ModelMetrics]``. ``evaluation_data``
holds the evaluations at step 0, half-way and the end of the run; we keep the end.

Output: one row per hash: ``spec`` (JSON cell), for every epoch budget E present
``cifar10/valid_acc_epE`` and ``cifar10/test_acc_epE`` (mean over runs, %) (E = 108 is also
``cifar10/valid_acc`` / ``cifar10/test_acc``), ``cifar10/runs`` (runs at 108 epochs),
``cifar10/train_time_s_ep108`` and ``cifar10/params`` (official trainable parameters).

A corrupt record (bad checksum, truncated file, undecodable payload, a cell whose hash differs
from the record's) stops the import with a one-line DataError naming the record; nothing is
written, so an existing table is never replaced by a partial one.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import defaultdict
from pathlib import Path

import pandas as pd

from nasproxy_bench.adapters.nb101.spec import NB101Spec
from nasproxy_bench.adapters.nb101.tfrecord import parse_model_metrics, read_records
from nasproxy_bench.errors import DataError


def decode_record(payload: bytes) -> tuple[str, int, NB101Spec, dict[str, object]]:
    """(hash, epochs, cell, metrics) of one record; ValueError if malformed."""
    try:
        module_hash, epochs, raw_adjacency, raw_operations, raw_metrics = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, TypeError) as exc:
        raise ValueError(f"payload is not the NB101 JSON list ({exc})") from None
    dim = math.isqrt(len(raw_adjacency))
    if dim * dim != len(raw_adjacency) or set(raw_adjacency) - {"0", "1"}:
        raise ValueError(f"adjacency {raw_adjacency!r} is not a square 0/1 string")
    matrix = [[int(raw_adjacency[r * dim + c]) for c in range(dim)] for r in range(dim)]
    spec = NB101Spec.create(matrix, str(raw_operations).split(","))
    try:
        metrics = parse_model_metrics(base64.b64decode(raw_metrics, validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"metrics are not a base64 ModelMetrics message ({exc})") from None
    if spec.hash() != module_hash:
        raise ValueError(f"cell hashes to {spec.hash()}, record says {module_hash}")
    return str(module_hash), int(epochs), spec, metrics


def import_nb101(source: Path) -> pd.DataFrame:
    """Normalized table (one row per hash, means over runs) from an official NB101 TFRecord."""
    source = Path(source)
    if not source.is_file():
        raise DataError(f"{source} does not exist; give nasbench_only108.tfrecord or nasbench_full.tfrecord")
    specs: dict[str, NB101Spec] = {}
    params: dict[str, int] = {}
    runs: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
    for index, payload in enumerate(read_records(source)):
        try:
            module_hash, epochs, spec, metrics = decode_record(payload)
            final = metrics["evaluation_data"][-1]  # type: ignore[index]
            final = {k: final[k] for k in ("validation_accuracy", "test_accuracy", "training_time")}
        except (ValueError, KeyError, IndexError) as exc:
            raise DataError(f"{source}: record {index} is not an NB101 record ({exc}); nothing was imported") from None
        specs.setdefault(module_hash, spec)
        params.setdefault(module_hash, int(metrics.get("trainable_parameters", -1)))  # type: ignore[call-overload]
        runs[(module_hash, epochs)].append(final)
    if not specs:
        raise DataError(f"{source}: no records; nothing was imported")
    budgets = sorted({epochs for _, epochs in runs})
    rows = []
    for module_hash, spec in specs.items():
        row: dict[str, object] = {"arch": module_hash, "spec": spec.to_json()}
        for epochs in budgets:
            done = runs.get((module_hash, epochs), [])
            for key, name in (("validation_accuracy", "valid_acc"), ("test_accuracy", "test_acc")):
                value = 100.0 * sum(r[key] for r in done) / len(done) if done else float("nan")
                row[f"cifar10/{name}_ep{epochs}"] = value
                if epochs == 108:
                    row[f"cifar10/{name}"] = value
            if epochs == 108:
                row["cifar10/runs"] = len(done)
                row["cifar10/train_time_s_ep108"] = sum(r["training_time"] for r in done) / len(done) if done else float("nan")
        row["cifar10/params"] = params[module_hash]
        rows.append(row)
    return pd.DataFrame(rows).sort_values("arch").reset_index(drop=True)

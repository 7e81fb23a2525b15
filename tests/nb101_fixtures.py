"""Small NB101 fixtures: three official rows (hash, cell, trainable params) and a toy table.

The official rows are public facts of the NB101 release (module hash and parameter count),
written out here so that tests run without the data folder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pandas as pd

from nasproxy_bench.adapters.nb101.spec import OPS, NB101Spec

# (hash, matrix, ops, official trainable parameters)
OFFICIAL_ROWS = (
    ("001a6fcc8b38cbc515be788a86bdc804", [[0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]],
     ["input", "maxpool3x3", "maxpool3x3", "output"], 1756298),
    ("00005c142e6f48ac74fdcf73e3439874",
     [[0, 1, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
     ["input", "conv3x3-bn-relu", "maxpool3x3", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"], 8555530),
    ("0000718c96730a92ea6d5242f8ce77e2",
     [[0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1],
      [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
     ["input", "conv1x1-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"], 5878154),
)


def small_cells(max_vertices: int = 4) -> list[NB101Spec]:
    """Every distinct valid pruned cell with at most ``max_vertices`` vertices (one per hash)."""
    found: dict[str, NB101Spec] = {}
    for n in range(2, max_vertices + 1):
        pairs = [(s, t) for t in range(n) for s in range(t)]
        for bits in itertools.product((0, 1), repeat=len(pairs)):
            matrix = [[0] * n for _ in range(n)]
            for (s, t), bit in zip(pairs, bits, strict=True):
                matrix[s][t] = bit
            for inner in itertools.product(OPS, repeat=n - 2):
                try:
                    spec = NB101Spec.create(matrix, ["input", *inner, "output"])
                except ValueError:
                    continue
                if spec.num_vertices == n:
                    found.setdefault(spec.hash(), spec)
    return list(found.values())


def write_sample_table(root: Path, specs: list[NB101Spec], params: dict[str, int] | None = None) -> Path:
    """A table in the layout of ``nb101_sample30k.csv.gz`` with a deterministic fake accuracy."""
    rows = []
    for spec in specs:
        digest = spec.hash()
        acc = 0.8 + 0.1 * (int(hashlib.md5(digest.encode()).hexdigest()[:4], 16) / 65535)
        rows.append({
            "hash": digest, "arch": json.dumps({"matrix": [list(r) for r in spec.matrix], "ops": list(spec.ops)}),
            "cifar10/valid_acc_ep4": acc / 4, "cifar10/valid_acc_ep12": acc / 2, "cifar10/valid_acc_ep36": acc - 0.05,
            "cifar10/valid_acc_ep108": acc, "cifar10/params": (params or {}).get(digest, 0), "cifar10/train_time_s_ep108": 1000.0,
        })
    path = root / "benchmarks/nb101/nb101_sample30k.csv.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path

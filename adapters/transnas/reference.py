"""NAS-Bench-Suite-Zero's TransNAS-Bench-101 reference scores as a ``compare`` table.

``python -m nasproxy_bench.adapters.transnas.reference micro out.csv`` writes one row per
(task, architecture) with our canonical string in ``arch_str``, the task in ``dataset``, the
12 NASLib proxy scores and NASLib's ``val_accuracy``: the layout ``nasproxy-bench compare
--reference`` and ``run --arch-list`` read. Cross-checking only; never a proxy input.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from nasproxy_bench.adapters.transnas.benchmark import TNB101MacroBenchmark, TNB101MicroBenchmark
from nasproxy_bench.adapters.transnas.verify import load_reference, naslib_to_arch
from nasproxy_bench.config import resolve_data_root


def reference_frame(space: str, data_root: Path) -> pd.DataFrame:
    """The reference subset of ``space`` ('micro' or 'macro') in the Suite-Zero CSV layout."""
    bench = (TNB101MicroBenchmark if space == "micro" else TNB101MacroBenchmark)(data_root)
    rows = []
    for task, entries in load_reference(bench).items():
        for key, entry in entries.items():
            row = {"dataset": task, "arch_str": naslib_to_arch(key, space == "micro"), "val_accuracy": entry.get("val_accuracy")}
            row.update({name: value["score"] for name, value in entry.items() if isinstance(value, dict) and "score" in value})
            rows.append(row)
    return pd.DataFrame(rows)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("micro", "macro"):
        raise SystemExit("usage: python -m nasproxy_bench.adapters.transnas.reference micro|macro OUT.csv")
    reference_frame(argv[0], resolve_data_root(None)).to_csv(argv[1], index=False)


if __name__ == "__main__":
    main(sys.argv[1:])

"""How much of a disagreement with a reference implementation is our own seed noise.

Usage: python docs/proxy_experiments/seed_agreement.py STORE_SEED_A.h5 STORE_SEED_B.h5 BENCHMARK DATASET [REFERENCE.csv]

For every proxy scored in both stores on BENCHMARK/DATASET (two runs that differ only in the
init/batch seed, ``--seeds``), prints the Spearman rank agreement between the two seeds on the
common architectures and, with a reference CSV in the ``compare`` format (columns ``dataset``,
``arch_str`` and one column per proxy, NASLib's names), each seed's agreement with the
reference. A proxy whose two seeds agree no better than either agrees with the reference is
limited by seed noise, not by a difference of implementation.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nasproxy_bench.compare import REFERENCE_NAMES
from nasproxy_bench.metrics import spearman
from nasproxy_bench.store import ResultStore


def scores(path: str, benchmark: str, dataset: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for group in ResultStore(Path(path)).groups.values():
        if (group.key.benchmark, group.key.dataset) == (benchmark, dataset):
            out.setdefault(group.key.proxy, {}).update({a: r.score for a, r in group.records.items()})
    return out


def main() -> None:
    store_a, store_b, benchmark, dataset = sys.argv[1:5]
    reference = None
    if len(sys.argv) > 5:
        reference = pd.read_csv(sys.argv[5])
        reference = reference[reference["dataset"] == dataset].set_index("arch_str")
    a, b = scores(store_a, benchmark, dataset), scores(store_b, benchmark, dataset)
    reference_name = {ours: theirs for theirs, ours in REFERENCE_NAMES.items()}  # our proxy name -> reference column
    print("| proxy | n | seed A vs seed B | seed A vs reference | seed B vs reference |\n|---|---|---|---|---|")
    for proxy in sorted(set(a) & set(b)):
        common = sorted(set(a[proxy]) & set(b[proxy]))
        x = np.array([a[proxy][c] for c in common], dtype=float)
        y = np.array([b[proxy][c] for c in common], dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        cells = [f"{spearman(x[ok], y[ok]):.3f}"]
        column = reference_name.get(proxy, proxy)
        if reference is not None and column in reference.columns:
            r = reference.reindex(common)[column].to_numpy(dtype=float)
            ok &= np.isfinite(r)
            cells += [f"{spearman(x[ok], r[ok]):.3f}", f"{spearman(y[ok], r[ok]):.3f}"]
        else:
            cells += ["–", "–"]
        print(f"| {proxy} | {int(ok.sum())} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

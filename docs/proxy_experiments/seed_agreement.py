"""How much of a disagreement with a reference implementation is our own seed noise.

Usage: python docs/proxy_experiments/seed_agreement.py STORE_SEED_A.h5 STORE_SEED_B.h5 BENCHMARK DATASET [REFERENCE.csv]
       [--seeds=A,B]

For every proxy scored in both stores on BENCHMARK/DATASET (two runs that differ only in the
init/batch seed, ``--seeds``), prints the Spearman rank agreement between the two seeds on the
common architectures and, with a reference CSV in the ``compare`` format (columns ``dataset``,
``arch_str`` and one column per proxy, NASLib's names), each seed's agreement with the
reference. A proxy whose two seeds agree no better than either agrees with the reference is
limited by seed noise, not by a difference of implementation.

Every group of a proxy counts (any seed, any stored version) unless ``--seeds=A,B`` picks the
init/batch seed read from each store (for a store that holds two seeds). The same script compares
two versions of a network: the session-20 macro stores hold scores of the networks before the
shortcut fix under the bare version and after it under ``.net1``.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nasproxy_bench.compare import REFERENCE_NAMES
from nasproxy_bench.metrics import spearman
from nasproxy_bench.store import ResultStore


def scores(path: str, benchmark: str, dataset: str, seed: int | None = None) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for group in ResultStore(Path(path)).groups.values():
        if (group.key.benchmark, group.key.dataset) == (benchmark, dataset) and seed in (None, group.key.seed):
            out.setdefault(group.key.proxy, {}).update({a: r.score for a, r in group.records.items()})
    return out


def main() -> None:
    options = [a for a in sys.argv[1:] if a.startswith("--seeds=")]
    args = [a for a in sys.argv[1:] if a not in options]
    seed_a, seed_b = (int(s) for s in options[-1].split("=", 1)[1].split(",")) if options else (None, None)
    store_a, store_b, benchmark, dataset = args[:4]
    reference = None
    if len(args) > 4:
        reference = pd.read_csv(args[4])
        reference = reference[reference["dataset"] == dataset].set_index("arch_str")
    a, b = scores(store_a, benchmark, dataset, seed_a), scores(store_b, benchmark, dataset, seed_b)
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

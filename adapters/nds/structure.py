"""How a proxy and the ground truth of an NDS cell space follow the nets' depth and width.

Used to explain synflow's NDS correlations: ``python -m nasproxy_bench.adapters.nds.structure
STORE [PROXY]`` prints, for every cell space scored in STORE (any dataset/batch), Spearman ρ of
the proxy with ``depth`` and ``width`` (read from each architecture's net JSON) and of the
best-epoch test accuracy with them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.registry import get_benchmark
from nasproxy_bench.store import ResultStore


def net_fields(arch: str) -> dict:
    net = json.loads(arch)
    return net.get("net", net)  # lr-wd spaces wrap the net with its optimizer settings


def structure_correlations(scores: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Spearman ρ of ``scores`` and of ``truth`` (both indexed by arch) with depth and width."""
    nets = {a: net_fields(a) for a in scores.index}
    depth = pd.Series({a: n["depth"] for a, n in nets.items()})
    width = pd.Series({a: n["width"] for a, n in nets.items()})
    truth = truth.reindex(scores.index)
    return {
        "proxy~depth": float(spearmanr(scores, depth)[0]), "proxy~width": float(spearmanr(scores, width)[0]),
        "truth~depth": float(spearmanr(truth, depth)[0]), "truth~width": float(spearmanr(truth, width)[0]),
    }


def main(store_path: Path, proxy: str = "synflow") -> None:
    root = resolve_data_root(None)
    for _, group in sorted(ResultStore(store_path).groups.items()):
        key = group.key
        scores = pd.Series({a: r.score for a, r in group.records.items() if r.status == "ok"}, dtype=float).dropna()
        if key.proxy != proxy or not key.benchmark.startswith("nds_") or scores.empty or "depth" not in net_fields(scores.index[0]):
            continue
        if len({(net_fields(a)["depth"], net_fields(a)["width"]) for a in scores.index}) == 1:
            continue  # fixed width and depth (DARTS_fix-w-d): nothing to correlate with
        truth = get_benchmark(key.benchmark)(root).ground_truth(key.dataset)
        stats = structure_correlations(scores, truth)
        print(f"{key.benchmark}/{key.dataset} batch {key.batch_size} n={len(scores)} "
              + " ".join(f"{k} {v:.2f}" for k, v in stats.items()))


if __name__ == "__main__":
    main(Path(sys.argv[1]), *sys.argv[2:3])

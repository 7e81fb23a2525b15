"""SPR of NASLib's released NAS-Bench-Suite-Zero scores against NASLib's own labels, per task.

Usage: python docs/proxy_experiments/naslib_released_spr.py micro|macro [micro|macro]

The Suite-Zero paper shows its per-task correlations only as a figure (Fig. 2), so these values are
recomputed from the released scores in the reference subsets (read by
``nasproxy_bench.adapters.transnas.reference.reference_frame``: ~700 architectures per task, 12
proxies, ``val_accuracy`` = NASLib's final-epoch validation metric). Scores at NASLib's failure value
(-1e8) or not finite are dropped and counted; a cell needs 10 architectures.
"""
import math
import sys

import numpy as np

from nasproxy_bench.adapters.transnas.reference import reference_frame
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.metrics import spearman

FAILED = -1e8
PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
           "snip", "synflow")


def task_spr(rows, proxy: str) -> tuple[float, int]:
    if proxy not in rows:
        return math.nan, 0
    scores = rows[proxy].to_numpy(dtype=float)
    ok = np.isfinite(scores) & (scores != FAILED)
    if ok.sum() < 10:
        return math.nan, int(ok.sum())
    return spearman(scores[ok], rows["val_accuracy"].to_numpy(dtype=float)[ok]), int(ok.sum())


def main() -> None:
    for space in sys.argv[1:]:
        reference = reference_frame(space, resolve_data_root(None))
        by_task = dict(tuple(reference.groupby("dataset")))
        tasks = sorted(by_task)
        print(f"\nTransNAS-Bench-101 {space}\n")
        print("| proxy | " + " | ".join(f"{t} ({len(by_task[t])})" for t in tasks) + " |")
        print("|---" * (len(tasks) + 1) + "|")
        for proxy in PROXIES:
            cells = []
            for task in tasks:
                rho, n = task_spr(by_task[task], proxy)
                short = "" if n == len(by_task[task]) else f" (n {n})"
                cells.append("–" if math.isnan(rho) else f"{rho:.2f}{short}")
            print(f"| {proxy} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

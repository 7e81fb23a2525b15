"""SPR of NASLib's released NAS-Bench-Suite-Zero scores against NASLib's own labels, per task.

Usage: python docs/proxy_experiments/naslib_released_spr.py REFERENCE.json [REFERENCE.json ...]

The Suite-Zero paper shows its per-task correlations only as a figure (Fig. 2), so these values are
recomputed from the released scores in the reference subsets (``../shared/reference/
naslib_suitezero_tnb101_{micro,macro}_subset.json``: ~700 architectures per task, 12 proxies,
``val_accuracy`` = NASLib's final-epoch validation metric). Scores at NASLib's failure value
(-1e8) or not finite are dropped and counted; a cell needs 10 architectures.
"""
import json
import math
import sys
from pathlib import Path

from scipy.stats import spearmanr

FAILED = -1e8
PROXIES = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot", "params", "plain",
           "snip", "synflow")


def task_spr(entries: dict, proxy: str) -> tuple[float, int]:
    pairs = [(e[proxy]["score"], e["val_accuracy"]) for e in entries.values()
             if proxy in e and math.isfinite(e[proxy]["score"]) and e[proxy]["score"] != FAILED]
    if len(pairs) < 10:
        return math.nan, len(pairs)
    return spearmanr([p[0] for p in pairs], [p[1] for p in pairs])[0], len(pairs)


def main() -> None:
    for path in sys.argv[1:]:
        reference = json.loads(Path(path).read_text())
        tasks = sorted(reference)
        print(f"\n{Path(path).name}\n")
        print("| proxy | " + " | ".join(f"{t} ({len(reference[t])})" for t in tasks) + " |")
        print("|---" * (len(tasks) + 1) + "|")
        for proxy in PROXIES:
            cells = []
            for task in tasks:
                rho, n = task_spr(reference[task], proxy)
                short = "" if n == len(reference[task]) else f" (n {n})"
                cells.append("–" if math.isnan(rho) else f"{rho:.2f}{short}")
            print(f"| {proxy} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

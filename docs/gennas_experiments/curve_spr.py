# Usage: python docs/gennas_experiments/curve_spr.py CURVES.jsonl
"""Spearman rho of minus the eval loss at each checkpoint (and of the curve mean) vs NB201 CIFAR-10 accuracy."""
import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from nasproxy_bench.bootstrap import spearman_ci
from nasproxy_bench.registry import open_benchmark

truth = open_benchmark("nb201", Path("/work/shared")).ground_truth("cifar10")
rows = [json.loads(line) for line in Path(sys.argv[1]).read_text().splitlines()]
acc = np.array([truth[r["arch"]] for r in rows])
curves = np.array([r["curve"] for r in rows])
same = sum(r["curve"][9] == r["stored"] for r in rows)  # checks every 10 iterations: index 9 = iteration 100
print(f"n={len(rows)}; iteration-100 loss identical to the stored score (other process) for {same}/{len(rows)}")
for k in range(curves.shape[1]):
    low, high = spearman_ci(-curves[:, k], acc)
    print(f"iteration {10 * (k + 1):3d}: SPR {spearmanr(-curves[:, k], acc).statistic:.3f} [{low:.2f}, {high:.2f}]")
print(f"mean of the 10 checks: SPR {spearmanr(-curves.mean(1), acc).statistic:.3f}")
print(f"loss drop (iteration 10 - 100): SPR {spearmanr(curves[:, 0] - curves[:, -1], acc).statistic:.3f}")

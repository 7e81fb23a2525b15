# Usage: python docs/gennas_experiments/store_spr.py STORE BENCH DATASET [METRIC ...]
"""Spearman rho / Kendall tau (-loss vs ground truth) with 95% bootstrap CIs for every proxy of a store,
against each named ground-truth metric (default: the dataset's default metric); also #params on the same archs."""
import sys
from pathlib import Path

import numpy as np

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.metrics import kendall, spearman
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.report import current_groups, group_scores
from nasproxy_bench.store import ResultStore

store_path, bench_name, dataset = sys.argv[1:4]
bench = open_benchmark(bench_name, Path("/work/shared"))
metrics = sys.argv[4:] or [None]
store = ResultStore(Path(store_path))
for group in current_groups(store):
    if (group.key.benchmark, group.key.dataset) != (bench_name, dataset):
        continue
    scores = group_scores(group)
    for metric in metrics:
        ds = bench.dataset(dataset)
        truth = bench.ground_truth(dataset, metric) * ds.metric(metric).direction.sign()
        t = truth.reindex(scores.index).to_numpy(dtype=float)
        s = -scores.to_numpy(dtype=float)
        ok = np.isfinite(t) & ~np.isnan(s)
        s, t = s[ok], t[ok]
        low, high = correlation_ci(s, t, "spearman")
        params = -bench.costs(dataset)["params_M"].reindex(scores.index[ok]).to_numpy(dtype=float)  # fewer params ...
        print(f"{group.key.proxy} vs {metric or ds.default_metric}: n={ok.sum()} SPR {spearman(s, t):.3f} [{low:.2f}, {high:.2f}] "
              f"KT {kendall(s, t):.3f}; non-finite losses {int(np.isinf(s).sum())}; "
              f"#params SPR {-spearman(params, t):.3f}; mean wall {np.mean([r.wall_s for r in group.records.values()]):.1f}s")

"""SPR/KT with 95% bootstrap CIs for every NB201 run group of a store. Usage: python docs/proxy_experiments/store_ci.py STORE.h5"""
import os
import sys
from pathlib import Path

import h5py
import numpy as np

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.metrics import kendall, spearman
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.store import _is_run_group, read_run_group

bench = open_benchmark("nb201", Path(os.environ.get("NASPROXY_DATA", "data")))
out = []


def visit(name, obj):
    if _is_run_group(obj):
        key, _attrs, recs = read_run_group(obj)
        truth = bench.ground_truth(key.dataset)
        archs = [a for a, r in recs.items() if r.status == "ok"]
        s = np.array([recs[a].score for a in archs]) * (-1 if key.proxy.startswith("ntk") else 1)
        t = np.array([truth[a] for a in archs])
        lo, hi = correlation_ci(s, t, "spearman")
        klo, khi = correlation_ci(s, t, "kendall", resamples=200)
        wall = np.array([recs[a].wall_s for a in archs])
        out.append(f"{key.proxy} v{key.proxy_version} {key.dataset} n={len(archs)} batch={key.batch_size}: "
                   f"SPR {spearman(s, t):+.3f} [{lo:+.3f}, {hi:+.3f}]  KT {kendall(s, t):+.3f} [{klo:+.3f}, {khi:+.3f}]  "
                   f"mean wall {wall.mean():.2f} s/arch (sign: higher = better)")


with h5py.File(sys.argv[1], "r") as f:
    f.visititems(visit)
print("\n".join(out))

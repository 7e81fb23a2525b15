# Usage: python docs/gennas_experiments/vs_public.py STORE TASK_OR_PRESET PUBLIC.jsonl [BENCH DATASET [LABEL_DATASET/METRIC]]
"""Our stored GenNAS scores against scores from the authors' code on the same architectures.

PUBLIC.jsonl: one line per architecture, ``{"arch": <NB201 string>, "final": <last eval loss>}``,
as written by running leeyeehoo/GenNAS's evaluator outside this repository (its code is not
shipped). Prints n, the per-architecture Spearman rho between the two, and each one's SPR with
the labels (default: NB201 CIFAR-10 scores against ``cifar10-valid`` validation accuracy, the
paper's labels) with a Fisher-z 95% interval and the paired bootstrap difference ours - public.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.metrics import spearman
from nasproxy_bench.registry import open_benchmark

sys.path.insert(0, str(Path(__file__).parent))
from paired import stored  # noqa: E402


def main() -> None:
    store, proxy, public_file = sys.argv[1:4]
    bench_name, dataset = (sys.argv[4], sys.argv[5]) if len(sys.argv) > 5 else ("nb201", "cifar10")
    labels = sys.argv[6] if len(sys.argv) > 6 else "cifar10-valid/valid_acc"
    label_dataset, metric = labels.split("/", 1)
    bench = open_benchmark(bench_name, Path(os.environ.get("NASPROXY_DATA", "../shared")))
    ours = stored(store, proxy, bench_name, dataset)  # -loss: higher is better
    public = {}
    for line in Path(public_file).read_text().splitlines():
        row = json.loads(line)
        public[row["arch"]] = -float(row["final"])
    common = [a for a in ours.index if a in public]
    a = ours.reindex(common).to_numpy(dtype=float)
    b = np.array([public[x] for x in common])
    truth = bench.ground_truth(label_dataset, metric).reindex(common).to_numpy(dtype=float)
    print(f"n = {len(common)}; per-architecture rho(ours, public) = {spearman(a, b):.3f}; labels {label_dataset} {metric}")
    for name, s in (("ours", a), ("public code", b)):
        low, high = correlation_ci(s, truth, "spearman")
        print(f"  {name:12s} SPR {spearman(s, truth):.3f} [{low:.2f}, {high:.2f}]")
    rng = np.random.default_rng(0)
    diffs = [spearman(a[i], truth[i]) - spearman(b[i], truth[i]) for i in (rng.integers(0, len(common), len(common)) for _ in range(2000))]
    low, high = np.percentile(diffs, [2.5, 97.5])
    print(f"  ours - public {spearman(a, truth) - spearman(b, truth):+.3f} [{low:+.3f}, {high:+.3f}] (paired bootstrap, 2,000 resamples)")


if __name__ == "__main__":
    main()

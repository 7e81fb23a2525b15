# Usage: python docs/gennas_experiments/paired.py BENCH DATASET[:DATASET_B] STORE_A PROXY_A STORE_B PROXY_B [[LABEL_DATASET/]METRIC]
#   e.g. ... nb201 cifar10 A.h5 P_A B.h5 P_B cifar10-valid/valid_acc  (NB201 CIFAR-10 scores vs the paper's labels)
#   DATASET:DATASET_B takes B's scores from another dataset's run (e.g. cifar100:ImageNet16-120, labels of the first)
#   a STORE ending in .csv is read as the rows of scripts/nds_protocol_variants.py (e.g. its --inputs gaussian runs)
"""Two GenNAS variants on the architectures both scored: SPR of each (-loss vs ground truth) and the
paired bootstrap difference B - A (95% percentile interval, 2,000 resamples of architectures).

PROXY is the stored proxy name (a preset name, or ``gennas:<16 hex>`` for a task file; a path to a
task file is turned into that name)."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.gennas.proxies import spec_for
from nasproxy_bench.metrics import spearman
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.report import group_scores
from nasproxy_bench.store import ResultStore


def stored(store: str, proxy: str, bench: str, dataset: str):
    if store.endswith(".csv"):  # rows of scripts/nds_protocol_variants.py (proxy named as given there)
        rows = pd.read_csv(store)
        rows = rows[(rows["benchmark"] == bench) & (rows["dataset"] == dataset) & (rows["proxy"] == proxy) & (rows["status"] == "ok")]
        if rows.empty:
            sys.exit(f"{store} has no {bench}/{dataset} rows of {proxy}")
        return -rows.set_index("arch")["score"]
    name = spec_for(proxy).name if proxy.endswith(".json") else proxy  # CNN or RNN task file
    # any stored version: NB201 GenNAS scores are bit-identical across v1/v2 (docs/gennas.md)
    groups = [g for g in ResultStore(Path(store)).groups.values()
              if (g.key.benchmark, g.key.dataset, g.key.proxy) == (bench, dataset, name)]
    if not groups:
        sys.exit(f"{store} has no {bench}/{dataset} scores of {name}")
    return -group_scores(min(groups, key=lambda g: (g.key.seed, g.key.sample_seed, g.key.batch_size)))


def main() -> None:
    bench_name, datasets, store_a, proxy_a, store_b, proxy_b = sys.argv[1:7]
    dataset, _, dataset_b = datasets.partition(":")
    metric = sys.argv[7] if len(sys.argv) > 7 else None
    label_dataset = dataset
    if metric and "/" in metric:
        label_dataset, metric = metric.split("/", 1)
    bench = open_benchmark(bench_name, resolve_data_root(None))
    a = stored(store_a, proxy_a, bench_name, dataset)
    b = stored(store_b, proxy_b, bench_name, dataset_b or dataset)
    common = a.index.intersection(b.index)
    sign = bench.dataset(label_dataset).metric(metric).direction.sign()  # higher = better for every label
    truth = sign * bench.ground_truth(label_dataset, metric).reindex(common).to_numpy(dtype=float)
    sa, sb = a.reindex(common).to_numpy(dtype=float), b.reindex(common).to_numpy(dtype=float)
    ok = np.isfinite(truth) & ~np.isnan(sa) & ~np.isnan(sb)
    sa, sb, truth = sa[ok], sb[ok], truth[ok]
    rng = np.random.default_rng(0)
    diffs = []
    for _ in range(2000):
        i = rng.integers(0, len(truth), len(truth))
        diffs.append(spearman(sb[i], truth[i]) - spearman(sa[i], truth[i]))
    low, high = np.nanpercentile(diffs, [2.5, 97.5])
    print(f"n={ok.sum()} A {spearman(sa, truth):.3f}  B {spearman(sb, truth):.3f}  B-A {spearman(sb, truth) - spearman(sa, truth):+.3f} "
          f"[{low:+.3f}, {high:+.3f}]  rho(A,B) {spearman(sa, sb):.3f}  ({label_dataset} {metric or 'default metric'})")


if __name__ == "__main__":
    main()

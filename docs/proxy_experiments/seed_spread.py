"""How much a proxy's SPR moves with its init/batch seed: every stored seed of one proxy.

Usage: python docs/proxy_experiments/seed_spread.py BENCH DATASET PROXY STORE [STORE ...]

Prints, on the architectures every seed scored: each seed's SPR with the benchmark's default
metric [95% bootstrap CI], the Spearman agreement of every pair of seeds, and the SPR of the
seed-averaged rank (the score a user gets by averaging seeds).
"""
import itertools
import sys
from pathlib import Path

import pandas as pd

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.metrics import spearman
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.report import group_scores
from nasproxy_bench.store import ResultStore


def main() -> None:
    bench_name, dataset, proxy, *stores = sys.argv[1:]
    bench = open_benchmark(bench_name, resolve_data_root(None))
    by_seed = {}
    for store in stores:
        for group in ResultStore(Path(store)).groups.values():
            if (group.key.benchmark, group.key.dataset, group.key.proxy) == (bench_name, dataset, proxy):
                by_seed.setdefault(group.key.seed, group_scores(group))
    scores = pd.DataFrame(by_seed).dropna()
    sign = bench.dataset(dataset).metric(None).direction.sign()
    truth = sign * bench.ground_truth(dataset).reindex(scores.index)
    scores = scores[truth.notna()]
    truth = truth.dropna().to_numpy(dtype=float)
    print(f"{bench_name}/{dataset} {proxy}: {len(scores)} architectures scored by seeds {sorted(by_seed)}")
    for seed in sorted(by_seed):
        s = scores[seed].to_numpy(dtype=float)
        low, high = correlation_ci(s, truth, "spearman")
        print(f"  seed {seed}: SPR {spearman(s, truth):.3f} [{low:.2f}, {high:.2f}]")
    for a, b in itertools.combinations(sorted(by_seed), 2):
        print(f"  seeds {a} vs {b}: agreement {spearman(scores[a].to_numpy(float), scores[b].to_numpy(float)):.3f}")
    mean_rank = scores.rank().mean(axis=1).to_numpy(dtype=float)
    print(f"  seed-averaged rank: SPR {spearman(mean_rank, truth):.3f}")


if __name__ == "__main__":
    main()

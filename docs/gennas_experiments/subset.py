# Usage: python docs/gennas_experiments/subset.py STORE
"""How representative is the evaluated subset? SPR of #params (benchmark cost table) on it vs on n=1000."""
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.store import ResultStore

b = open_benchmark("nb201", Path("/work/shared"))
truth = b.ground_truth("cifar10")
params = b.costs("cifar10")["params_M"]
store = ResultStore(Path(sys.argv[1]))
done = None
for g in store.groups.values():
    archs = {a for a, r in g.records.items() if r.status == "ok"}
    done = archs if done is None else done & archs
done = sorted(done)
sample = b.sample(1000, 0)
print("n done (both proxies):", len(done))
print(f"params SPR on done subset: {spearmanr(params[done], truth[done]).statistic:.3f}")
print(f"params SPR on n=1000 sample: {spearmanr(params[sample], truth[sample]).statistic:.3f}")
rng = np.random.default_rng(0)
subsets = (list(rng.choice(sample, len(done), replace=False)) for _ in range(2000))
vals = [spearmanr(params[s], truth[s]).statistic for s in subsets]
low, high = np.quantile(vals, [0.025, 0.975])
print(f"params SPR over random subsets of that size: mean {np.mean(vals):.3f}, 2.5-97.5%: {low:.3f}..{high:.3f}")
for g in store.groups.values():
    s = {a: r.score for a, r in g.records.items() if a in done}
    a = list(s)
    print(g.key.proxy, f"SPR(-loss) on common subset: {spearmanr([-s[x] for x in a], truth[a]).statistic:.3f}")

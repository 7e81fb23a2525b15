"""Which score is GenNAS's NDS-ImageNet "NASWOT" column: NASWOT's ReLU-code kernel (naswot) or its
first version's Jacobian covariance (jacob_cov)?

Usage: python docs/proxy_experiments/nds_naswot_column.py STORE.h5 [STORE.h5 ...]

The stores hold ``run --benchmark nds_<space> --dataset imagenet --input-size 32 --proxies
naswot,jacob_cov --full --batch-size 32`` (GenNAS's 32x32 protocol, every entry of each space).
For each space and proxy: SPR and Kendall tau against best-epoch test accuracy with 95%
bootstrap intervals, next to GenNAS's Table 2 (SPR) and Table 7 (KT) NASWOT values; then, per
proxy, the mean absolute gap and how many published values fall inside our intervals. The
published numbers are targets printed beside ours, never inputs.
"""
import os
import sys
from pathlib import Path

import numpy as np

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.metrics import kendall, spearman
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.report import group_scores
from nasproxy_bench.store import ResultStore

# GenNAS (NeurIPS 2021) NASWOT column, ImageNet NDS rows: Table 2 (Spearman), Table 7 (Kendall).
PAPER = {
    "nds_darts": (0.66, 0.49), "nds_darts_fix-w-d": (0.20, 0.13), "nds_amoeba": (0.42, 0.33),
    "nds_enas": (0.69, 0.51), "nds_nasnet": (0.51, 0.39), "nds_pnas": (0.60, 0.45),
    "nds_resnext-a": (0.72, 0.52), "nds_resnext-b": (0.63, 0.45),
}
PROXIES = ("naswot", "jacob_cov")


def main() -> None:
    root = Path(os.environ.get("NASPROXY_DATA", "../shared"))
    scores: dict[tuple[str, str], dict[str, float]] = {}
    for path in sys.argv[1:]:
        for group in ResultStore(Path(path)).groups.values():
            key = group.key
            if key.benchmark in PAPER and key.proxy in PROXIES and key.dataset == "imagenet-32":
                scores.setdefault((key.benchmark, key.proxy), {}).update(group_scores(group).to_dict())
    print("| space | proxy | n | SPR [95% CI] | paper SPR | KT [95% CI] | paper KT |\n|---|---|---|---|---|---|---|")
    tally = {p: [] for p in PROXIES}
    for space, (paper_spr, paper_kt) in PAPER.items():
        truth_all = open_benchmark(space, root).ground_truth("imagenet")
        for proxy in PROXIES:
            found = scores.get((space, proxy))
            if not found:
                print(f"| {space} | {proxy} | 0 | not run | {paper_spr} | | {paper_kt} |")
                continue
            archs = [a for a in found if np.isfinite(found[a])]
            s = np.array([found[a] for a in archs])
            t = truth_all.reindex(archs).to_numpy(dtype=float)
            ok = np.isfinite(t)
            s, t = s[ok], t[ok]
            rho, tau = spearman(s, t), kendall(s, t)
            (rl, rh), (kl, kh) = correlation_ci(s, t, "spearman"), correlation_ci(s, t, "kendall")
            tally[proxy].append((abs(rho - paper_spr), abs(tau - paper_kt), rl <= paper_spr <= rh, kl <= paper_kt <= kh))
            print(f"| {space} | {proxy} | {len(s)} | {rho:.3f} [{rl:.2f}, {rh:.2f}] | {paper_spr} "
                  f"| {tau:.3f} [{kl:.2f}, {kh:.2f}] | {paper_kt} |")
    for proxy, rows in tally.items():
        if rows:
            gaps = np.array([r[:2] for r in rows])
            print(f"{proxy}: {len(rows)} spaces; mean |gap| SPR {gaps[:, 0].mean():.3f}, KT {gaps[:, 1].mean():.3f}; "
                  f"paper inside our 95% CI: SPR {sum(r[2] for r in rows)}/{len(rows)}, KT {sum(r[3] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()

"""synflow_bn v2 (|θ·∂R/∂θ|), v1 (signed θ·∂R/∂θ) and synflow on a seeded NB201 sample, against CIFAR-10 accuracy.

Usage: NASPROXY_DATA=/work/shared .venv/bin/python docs/proxy_experiments/synflow_bn_signs.py 150
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from nasproxy_bench.proxies.gradient import _without_batchnorm
from nasproxy_bench.proxies.passes import weighted_layers
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.runner import build_model


def flow(model: torch.nn.Module, keep_bn: bool) -> tuple[float, float]:
    """(Σ|θ·∂R/∂θ|, Σθ·∂R/∂θ) over conv/linear weights: |params|, train mode, float64, one all-ones input."""
    model = model.double().train()
    if not keep_bn:
        _without_batchnorm(model)
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    weights = [m.weight for m in weighted_layers(model)]
    out = model(torch.ones(1, 3, 32, 32, dtype=torch.float64))
    grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
    products = [(w * g).detach() for w, g in zip(weights, grads, strict=True) if g is not None]
    return float(sum(p.abs().sum() for p in products)), float(sum(p.sum() for p in products))


def main(n: int) -> None:
    torch.set_num_threads(1)
    bench = open_benchmark("nb201", Path(os.environ.get("NASPROXY_DATA", "data")))
    truth = bench.ground_truth("cifar10")
    rows = []
    for arch in bench.sample(n, 0):
        model = build_model(bench, arch, "cifar10", 0, torch.device("cpu"))
        v2, v1 = flow(copy.deepcopy(model), True)
        plain, _ = flow(copy.deepcopy(model), False)
        ops = bench.parse(arch).ops
        convs = sum(op.startswith("nor_conv") for op in ops)
        skips = sum(op == "skip_connect" for op in ops)
        rows.append((truth[arch], v2, v1, plain, convs, skips))
    r = np.array(rows)
    for column, name in enumerate(("synflow_bn v2 (abs)", "synflow_bn v1 (signed)", "synflow (BN removed)"), start=1):
        acc, conv, skip = (spearmanr(r[:, other], r[:, column]).statistic for other in (0, 4, 5))
        print(f"{name:24s} SPR vs acc {acc:+.3f}  vs #conv {conv:+.3f}  vs #skip {skip:+.3f}")
    print(f"v2 vs synflow: {spearmanr(r[:, 1], r[:, 3]).statistic:+.3f} (n={n})")


if __name__ == "__main__":
    main(int(sys.argv[1]))

"""The seed-noise floor of NDS ground truth, and what it allows a proxy's Spearman ρ to reach.

The rerun files (``nds_resnet_reruns``, ``nds_vanilla_reruns``: two CIFAR-10 nets x 100 seeds)
give the spread of test accuracy over training seeds. Adding that spread as Gaussian noise to
a space's ground truth and correlating two such noisy copies gives the Spearman ρ that two
training runs of the same space would reach: no proxy can be expected to beat it. The spread is
measured on CIFAR-10 and applied to the ImageNet spaces (no ImageNet reruns exist).

``python -m nasproxy_bench.adapters.nds.noise [space ...]`` prints the table (data root from
``$NASPROXY_DATA``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.registry import get_benchmark

RERUN_SPACES = ("nds_resnet_reruns", "nds_vanilla_reruns")
GENNAS_SPACES = ("darts", "darts_fix-w-d", "amoeba", "enas", "nasnet", "pnas", "resnext-a", "resnext-b")


def rerun_std(data_root: Path) -> pd.Series:
    """Standard deviation of best-epoch test accuracy over seeds, per rerun net (``<space>/<group>``)."""
    out = {}
    for name in RERUN_SPACES:
        bench = get_benchmark(name)(data_root)
        if not bench.present():
            continue
        floor = bench.noise_floor()
        for group, std in zip(floor["group"], floor["test_acc_std"], strict=True):
            out[f"{name}/{group}"] = float(std)
    return pd.Series(out, name="test_acc_std")


def rerun_spearman(truth: np.ndarray, sigma: float, *, trials: int = 200, seed: int = 0) -> float:
    """Mean Spearman ρ between two copies of ``truth`` each perturbed by N(0, sigma²) noise."""
    rng = np.random.default_rng(seed)
    values = [spearmanr(truth + rng.normal(0, sigma, len(truth)), truth + rng.normal(0, sigma, len(truth)))[0]
              for _ in range(trials)]
    return float(np.mean(values))


def noise_table(data_root: Path, spaces: tuple[str, ...] = GENNAS_SPACES, dataset: str = "imagenet") -> pd.DataFrame:
    sigma = float(rerun_std(data_root).mean())
    rows = []
    for space in spaces:
        truth = get_benchmark(f"nds_{space}")(data_root).ground_truth(dataset).dropna().to_numpy()
        rows.append({"space": space, "n": len(truth), "gt_std": float(truth.std()), "sigma": sigma,
                     "spr_rerun_vs_rerun": rerun_spearman(truth, sigma)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    root = resolve_data_root(None)
    print(rerun_std(root).to_string())
    print(noise_table(root, tuple(sys.argv[1:]) or GENNAS_SPACES).to_string(index=False, float_format="%.3f"))

"""Bootstrap confidence intervals for rank correlations (vectorised over resamples)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from nasproxy_bench.metrics import scored_pairs


def spearman_ci(scores: np.ndarray, truth: np.ndarray, *, resamples: int = 1000, level: float = 0.95,
                seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's ρ over architectures (pairs kept as in ``metrics``)."""
    mask = scored_pairs(scores, truth)
    s, t = scores[mask], truth[mask]
    if len(s) < 3:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(s), size=(resamples, len(s)))
    rs, rt = rankdata(s[idx], axis=1), rankdata(t[idx], axis=1)
    rs -= rs.mean(axis=1, keepdims=True)
    rt -= rt.mean(axis=1, keepdims=True)
    denom = np.sqrt((rs**2).sum(1) * (rt**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (rs * rt).sum(1) / denom
    rho = rho[np.isfinite(rho)]
    if len(rho) == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low, high = np.quantile(rho, [alpha, 1 - alpha])
    return float(low), float(high)

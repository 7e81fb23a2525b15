"""Bootstrap confidence intervals for rank correlations (vectorised over resamples)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from nasproxy_bench.metrics import scored_pairs

_PAIR_BUDGET = 4_000_000  # resamples x pairs held in memory at once by the Kendall bootstrap
# Below this many architectures a percentile bootstrap of a rank correlation has too few distinct
# resamples to mean anything (n = 3 gives intervals like [1.00, 1.00]): no interval (NaN, NaN).
MIN_CI_N = 10


def spearman_rows(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spearman's ρ of every row of ``s`` against the same row of ``t`` (average ranks for ties)."""
    rs, rt = rankdata(s, axis=1), rankdata(t, axis=1)
    rs -= rs.mean(axis=1, keepdims=True)
    rt -= rt.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rs * rt).sum(1) / np.sqrt((rs**2).sum(1) * (rt**2).sum(1))


def kendall_rows(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of every row of ``s`` against the same row of ``t`` (as scipy's ``kendalltau``)."""
    i, j = np.triu_indices(s.shape[1], k=1)
    out = np.empty(s.shape[0])
    step = max(1, _PAIR_BUDGET // max(1, len(i)))
    for start in range(0, s.shape[0], step):
        ds = np.sign(s[start:start + step, i] - s[start:start + step, j])
        dt = np.sign(t[start:start + step, i] - t[start:start + step, j])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:start + step] = (ds * dt).sum(1) / np.sqrt((ds != 0).sum(1) * (dt != 0).sum(1))
    return out


def correlation_ci(scores: np.ndarray, truth: np.ndarray, kind: str = "spearman", *, resamples: int = 1000,
                   level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's ρ or Kendall's tau-b over architectures (pairs kept as in ``metrics``).

    (NaN, NaN) when fewer than ``MIN_CI_N`` pairs are scored.
    """
    if kind not in ("spearman", "kendall"):
        raise ValueError(f"unknown correlation {kind!r}: use 'spearman' or 'kendall'")
    mask = scored_pairs(scores, truth)
    # Both correlations depend only on order, so resample ranks: ±inf scores (e.g. log 0) then
    # compare like any other value instead of giving inf − inf = NaN pair signs.
    s, t = rankdata(scores[mask]), rankdata(truth[mask])
    if len(s) < MIN_CI_N:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(s), size=(resamples, len(s)))
    values = (spearman_rows if kind == "spearman" else kendall_rows)(s[idx], t[idx])
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def spearman_ci(scores: np.ndarray, truth: np.ndarray, *, resamples: int = 1000, level: float = 0.95,
                seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of Spearman's ρ over architectures."""
    return correlation_ci(scores, truth, "spearman", resamples=resamples, level=level, seed=seed)

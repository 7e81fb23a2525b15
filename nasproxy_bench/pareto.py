"""Hardware-constrained selection: what a proxy picks under a cost budget, and its regret.

For a cost column (e.g. ``fpga/latency_ms``) and a sweep of budgets, the proxy picks the
architecture with the best proxy score among those within budget; the oracle picks the one
with the best ground truth. Regret = oracle truth − picked truth (in ground-truth units, ≥ 0
for a higher-is-better truth).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nasproxy_bench.metrics import scored_pairs


def pareto_front(cost: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (lower cost, higher truth), sorted by cost."""
    order = np.lexsort((-truth, cost))  # by cost, ties: best truth first
    front, best = [], -np.inf
    for i in order:
        if truth[i] > best:
            front.append(i)
            best = truth[i]
    return np.array(front, dtype=int)


def default_budgets(cost: np.ndarray, count: int = 10) -> np.ndarray:
    """``count`` budgets at evenly spaced quantiles of the candidates' costs (10%..100%)."""
    return np.quantile(cost[np.isfinite(cost)], np.linspace(0.1, 1.0, count))


def budget_sweep(
    scores: np.ndarray, cost: np.ndarray, truth: np.ndarray, budgets: np.ndarray, *, score_sign: float = 1.0
) -> pd.DataFrame:
    """One row per budget: the proxy's pick, the oracle's pick, and the regret."""
    scores = np.asarray(scores, dtype=float) * score_sign
    valid = np.isfinite(cost) & np.isfinite(truth)
    rows = []
    for budget in budgets:
        within = valid & (cost <= budget)
        if not within.any():
            continue
        candidates = np.flatnonzero(within)
        oracle = candidates[np.argmax(truth[candidates])]
        scored = candidates[scored_pairs(scores[candidates], truth[candidates])]
        pick = scored[np.argmax(scores[scored])] if len(scored) else -1
        picked = truth[pick] if pick >= 0 else np.nan
        rows.append({
            "budget": float(budget), "candidates": int(within.sum()),
            "pick": int(pick), "pick_truth": float(picked), "pick_cost": float(cost[pick]) if pick >= 0 else np.nan,
            "oracle": int(oracle), "oracle_truth": float(truth[oracle]), "oracle_cost": float(cost[oracle]),
            "regret": float(truth[oracle] - picked),
        })
    return pd.DataFrame(rows)

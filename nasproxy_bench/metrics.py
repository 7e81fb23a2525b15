"""Rank-correlation metrics of zero-cost proxies against ground truth.

Conventions (stated in every report):
- Both the proxy score and the ground truth are first turned into "higher is better" using
  their declared directions, so a positive correlation always means the proxy ranks good
  architectures high ("signed" correlation).
- NaN scores (no value: the proxy failed or does not apply) are kept in the store but excluded
  here; ``coverage`` is the fraction of evaluated architectures with a non-NaN score. ±inf is
  a value, not a gap: a log-score of 0 (e.g. zen or naswot of a network whose output ignores
  its input) or an infinite condition number ranks as the worst (or best) score, as it does
  in the reference implementations. Architectures without finite ground truth are excluded.
- Top-k% is defined over the ENTIRE search space, as in the zero-shot NAS survey (Li et al.,
  figs. 6-10, 13-14): the threshold is the ground truth of the ``ceil(N * k / 100)``-th best of
  the N architectures of the space with finite ground truth, and the subset is the sample's
  members (finite score and truth) at or above it. Its size ``n_top`` varies with the sample
  (about ``k``% of it for a uniform sample) and is reported beside every @Top value.
- Kendall's tau is tau-b (ties in either variable handled as in scipy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Correlations:
    n: int
    coverage: float
    spearman: float
    kendall: float
    spearman_top: float
    kendall_top: float
    n_top: int
    top_threshold: float
    retrieval: float
    best_found: float
    true_best: float


def scored_pairs(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Mask of the architectures every metric uses: a score that is not NaN (±inf ranks) and finite truth."""
    return ~np.isnan(scores) & np.isfinite(truth)


def top_count(n: int, percent: float) -> int:
    """How many of ``n`` architectures make up the top ``percent`` % (at least 1)."""
    if not 0 < percent <= 100:
        raise ValueError(f"top-k percentage must be in (0, 100], got {percent}")
    return max(1, int(math.ceil(n * percent / 100.0 - 1e-9)))


def _corr(a: np.ndarray, b: np.ndarray, kind: str) -> float:
    if len(a) < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return float("nan")
    if kind == "spearman":
        return float(stats.spearmanr(a, b).statistic)
    return float(stats.kendalltau(a, b).statistic)


def spearman(scores: np.ndarray, truth: np.ndarray) -> float:
    mask = scored_pairs(scores, truth)
    return _corr(scores[mask], truth[mask], "spearman")


def kendall(scores: np.ndarray, truth: np.ndarray) -> float:
    mask = scored_pairs(scores, truth)
    return _corr(scores[mask], truth[mask], "kendall")


def space_threshold(space_truth: np.ndarray, percent: float) -> float:
    """Ground truth (higher is better) an architecture needs to be in the top ``percent`` % of the whole space.

    ``space_truth`` holds the ground truth of every architecture of the space; non-finite values
    (diverged or missing runs) are not counted in N.
    """
    finite = np.sort(np.asarray(space_truth, dtype=np.float64)[np.isfinite(space_truth)])[::-1]
    if len(finite) == 0:
        return float("nan")
    return float(finite[top_count(len(finite), percent) - 1])


def top_subset(scores: np.ndarray, truth: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores and truth of the sample's architectures whose truth is at or above ``threshold`` (see ``space_threshold``)."""
    mask = scored_pairs(scores, truth) & (truth >= threshold)
    return scores[mask], truth[mask]


def retrieval_rate(scores: np.ndarray, truth: np.ndarray, percent: float) -> float:
    """|top-k by truth ∩ top-k by score| / k, over architectures with a finite score.

    Unlike @Top correlations, k is a share of the sample (GenNAS's definition of retrieval).
    """
    mask = scored_pairs(scores, truth)
    s, t = scores[mask], truth[mask]
    if len(t) == 0:
        return float("nan")
    k = top_count(len(t), percent)
    true_top = set(np.argsort(-t, kind="stable")[:k].tolist())
    proxy_top = set(np.argsort(-s, kind="stable")[:k].tolist())
    return len(true_top & proxy_top) / k


def best_found(scores: np.ndarray, truth: np.ndarray) -> float:
    """Ground truth of the architecture the proxy ranks first (first in input order on ties)."""
    mask = scored_pairs(scores, truth)
    if not mask.any():
        return float("nan")
    s, t = scores[mask], truth[mask]
    return float(t[int(np.argmax(s))])


def correlations(
    scores: np.ndarray,
    truth: np.ndarray,
    *,
    score_sign: float = 1.0,
    truth_sign: float = 1.0,
    top_percent: float = 5.0,
    space_truth: np.ndarray | None = None,
) -> Correlations:
    """All metrics for one proxy on one sample. Signs turn values into 'higher is better'.

    ``space_truth``: ground truth of every architecture of the space (the benchmark's full table,
    in its own units), which sets the @Top threshold; ``None`` means the sample is the whole space.
    ``best_found`` and ``true_best`` are reported in the ground truth's own units.
    """
    scores = np.asarray(scores, dtype=np.float64) * score_sign
    truth = np.asarray(truth, dtype=np.float64) * truth_sign
    space = truth if space_truth is None else np.asarray(space_truth, dtype=np.float64) * truth_sign
    n = len(scores)
    mask = scored_pairs(scores, truth)
    threshold = space_threshold(space, top_percent)
    s_top, t_top = top_subset(scores, truth, threshold)
    finite_truth = truth[np.isfinite(truth)]
    return Correlations(
        n=n,
        coverage=float((~np.isnan(scores)).mean()) if n else float("nan"),
        spearman=spearman(scores, truth),
        kendall=kendall(scores, truth),
        spearman_top=_corr(s_top, t_top, "spearman"),
        kendall_top=_corr(s_top, t_top, "kendall"),
        n_top=len(t_top),
        top_threshold=threshold * truth_sign,
        retrieval=retrieval_rate(scores, truth, top_percent),
        best_found=best_found(scores, truth) * truth_sign if mask.any() else float("nan"),
        true_best=float(finite_truth.max()) * truth_sign if len(finite_truth) else float("nan"),
    )


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds, ignoring NaN (std 0 for one seed)."""
    arr = np.array([v for v in values if np.isfinite(v)], dtype=np.float64)
    if len(arr) == 0:
        return float("nan"), float("nan")
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else 0.0

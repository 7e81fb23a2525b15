import math

import numpy as np
import pytest
from scipy import stats

from nasproxy_bench.bootstrap import MIN_CI_N, correlation_ci, kendall_rows, spearman_ci, spearman_rows


def test_row_correlations_match_scipy_with_ties():
    rng = np.random.default_rng(3)
    s = rng.integers(0, 6, size=(7, 25)).astype(float)
    t = s + rng.integers(0, 3, size=(7, 25))
    for i in range(7):
        assert kendall_rows(s, t)[i] == pytest.approx(stats.kendalltau(s[i], t[i]).statistic)
        assert spearman_rows(s, t)[i] == pytest.approx(stats.spearmanr(s[i], t[i]).statistic)


def test_kendall_rows_in_chunks(monkeypatch):
    from nasproxy_bench import bootstrap

    rng = np.random.default_rng(4)
    s, t = rng.normal(size=(9, 12)), rng.normal(size=(9, 12))
    whole = kendall_rows(s, t)
    monkeypatch.setattr(bootstrap, "_PAIR_BUDGET", 100)  # 66 pairs per row: one row per chunk
    assert np.allclose(kendall_rows(s, t), whole)


def test_intervals_contain_the_estimate_and_narrow_with_n():
    rng = np.random.default_rng(5)
    truth = rng.normal(size=400)
    scores = truth + rng.normal(size=400)
    for kind, fn in (("spearman", stats.spearmanr), ("kendall", stats.kendalltau)):
        low, high = correlation_ci(scores[:40], truth[:40], kind)
        assert low < fn(scores[:40], truth[:40]).statistic < high
        low_all, high_all = correlation_ci(scores, truth, kind, resamples=300)
        assert high_all - low_all < high - low
    assert spearman_ci(scores, truth) == correlation_ci(scores, truth, "spearman")
    assert all(math.isnan(v) for v in correlation_ci(scores[:2], truth[:2], "kendall"))
    # Below MIN_CI_N pairs no interval: at n = 3 a perfect ranking would give [1.00, 1.00].
    assert all(math.isnan(v) for v in correlation_ci(truth[:MIN_CI_N - 1], truth[:MIN_CI_N - 1], "spearman"))
    assert all(math.isfinite(v) for v in correlation_ci(scores[:MIN_CI_N], truth[:MIN_CI_N], "spearman"))
    with pytest.raises(ValueError, match="kendall"):
        correlation_ci(scores, truth, "pearson")


def test_infinite_scores_rank_below_every_finite_one():
    """A proxy scoring −inf (log of 0) is the lowest rank, not a NaN pair: the CI equals that of a finite stand-in."""
    rng = np.random.default_rng(6)
    truth = rng.normal(size=60)
    scores = truth + rng.normal(size=60)
    worst = np.argsort(scores)[:5]
    with_inf, finite = scores.copy(), scores.copy()
    with_inf[worst] = -np.inf
    finite[worst] = scores.min() - 1.0  # tied below every other score, as the −inf are
    for kind in ("spearman", "kendall"):
        low, high = correlation_ci(with_inf, truth, kind)
        assert math.isfinite(low) and math.isfinite(high)
        assert (low, high) == correlation_ci(finite, truth, kind)

import math

import numpy as np
import pytest
from scipy import stats

from nasproxy_bench.metrics import (
    best_found,
    correlations,
    kendall,
    mean_std,
    retrieval_rate,
    spearman,
    top_count,
    top_subset,
)


def test_spearman_and_kendall_match_scipy_with_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=200).astype(float)  # many ties
    truth = scores + rng.normal(size=200)
    assert spearman(scores, truth) == pytest.approx(stats.spearmanr(scores, truth).statistic)
    assert kendall(scores, truth) == pytest.approx(stats.kendalltau(scores, truth, variant="b").statistic)


def test_hand_computed_kendall_tau_b_with_a_tie():
    # pairs: (1,2)+ (1,3)+ (2,3) tie in scores -> n0=3, n1=1 (score tie), n2=0
    # concordant 2, discordant 0: tau_b = 2 / sqrt((3-1)*(3-0)) = 2/sqrt(6)
    assert kendall(np.array([1.0, 2.0, 2.0]), np.array([1.0, 2.0, 3.0])) == pytest.approx(2 / math.sqrt(6))


def test_nan_scores_are_excluded_as_coverage_and_inf_ranks_as_an_extreme():
    scores = np.array([1.0, 2.0, np.nan, 4.0, np.inf, 3.0, -np.inf])
    truth = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 5.0, 1.0])
    result = correlations(scores, truth)
    kept = [0, 1, 3, 4, 5, 6]
    assert result.coverage == pytest.approx(6 / 7)
    # inf/-inf take the top/bottom rank: the same as replacing them by 1e9/-1e9
    as_extremes = np.array([1.0, 2.0, 4.0, 1e9, 3.0, -1e9])
    assert result.spearman == pytest.approx(stats.spearmanr(as_extremes, truth[kept]).statistic)
    assert result.spearman != pytest.approx(stats.spearmanr(scores[[0, 1, 3, 5]], truth[[0, 1, 3, 5]]).statistic)
    assert result.n == 7


def test_direction_signs_make_correlation_positive_for_a_good_lower_is_better_proxy():
    truth = np.arange(10.0)
    cond = -truth  # lower condition number = better network
    assert correlations(cond, truth, score_sign=-1.0).spearman == pytest.approx(1.0)
    assert correlations(cond, truth).spearman == pytest.approx(-1.0)
    # lower-is-better ground truth (e.g. perplexity): best_found reported in its own units
    ppl = np.array([5.0, 3.0, 9.0])
    score = np.array([0.1, 0.9, 0.5])
    result = correlations(score, ppl, truth_sign=-1.0)
    assert result.best_found == 3.0
    assert result.true_best == 3.0


def test_top_subset_keeps_truth_top_percent():
    truth = np.arange(100.0)
    scores = -truth
    s, t = top_subset(scores, truth, 5)
    assert sorted(t.tolist()) == [95.0, 96.0, 97.0, 98.0, 99.0]
    assert top_count(1000, 5) == 50
    assert top_count(10, 5) == 1
    with pytest.raises(ValueError):
        top_count(10, 0)


def test_top5_correlation_is_computed_on_the_subset():
    rng = np.random.default_rng(1)
    truth = rng.normal(size=400)
    scores = truth + rng.normal(size=400)
    top = np.argsort(-truth)[:20]
    result = correlations(scores, truth, top_percent=5)
    assert result.spearman_top == pytest.approx(stats.spearmanr(scores[top], truth[top]).statistic)
    assert result.kendall_top == pytest.approx(stats.kendalltau(scores[top], truth[top]).statistic)


def test_retrieval_rate_by_hand():
    truth = np.array([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], dtype=float)  # top-20% = items 0, 1
    scores = np.array([5, 1, 9, 0, 0, 0, 0, 0, 0, 0], dtype=float)  # proxy top-2 = items 2, 0
    assert retrieval_rate(scores, truth, 20) == 0.5
    assert retrieval_rate(truth, truth, 20) == 1.0


def test_best_found_is_truth_of_proxy_argmax():
    assert best_found(np.array([0.1, 0.7, np.nan, 0.3]), np.array([90.0, 85.0, 99.0, 91.0])) == 85.0
    assert math.isnan(best_found(np.array([np.nan]), np.array([1.0])))


def test_constant_scores_give_nan_not_a_number():
    assert math.isnan(spearman(np.ones(5), np.arange(5.0)))


def test_mean_std_over_seeds():
    assert mean_std([0.7, 0.8, 0.9]) == pytest.approx((0.8, 0.1))
    assert mean_std([0.5]) == (0.5, 0.0)
    assert mean_std([0.5, float("nan"), 0.7]) == pytest.approx((0.6, math.sqrt(0.02)))

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
    space_threshold,
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


def test_top_subset_keeps_members_at_or_above_the_threshold():
    truth = np.arange(100.0)
    s, t = top_subset(-truth, truth, space_threshold(truth, 5))
    assert sorted(t.tolist()) == [95.0, 96.0, 97.0, 98.0, 99.0] and sorted(s.tolist()) == [-99.0, -98.0, -97.0, -96.0, -95.0]
    assert top_count(1000, 5) == 50
    assert top_count(10, 5) == 1
    with pytest.raises(ValueError):
        top_count(10, 0)


def test_space_threshold_by_hand():
    # 40 finite values 1..40 (+2 NaN not counted): top 10% = ceil(4.0) = 4 best -> threshold 37
    assert space_threshold(np.r_[np.arange(1.0, 41.0), np.nan, np.nan], 10) == 37.0
    # ties at the threshold all count: top 20% of 5 = 1 architecture, but three share the best value
    space = np.array([1.0, 2.0, 3.0, 3.0, 3.0])
    assert space_threshold(space, 20) == 3.0
    assert len(top_subset(np.array([0.1, 0.2, 0.3]), np.array([3.0, 3.0, 3.0]), 3.0)[0]) == 3
    assert math.isnan(space_threshold(np.array([np.nan]), 5))


def test_top_k_uses_the_space_not_the_sample():
    """Hand-made case where the sample's top 10% and the space's top 10% differ.

    Space: truth 1..40, top 10% = the 4 best (>= 37). Sample of 10: truth 40, 39, 38, 37, 30, 20, 10, 5, 3, 1,
    so 4 members are in the space's top 10% (the sample's own top 10% would be just 40 and 39).
    Scores on those 4: 4, 3, 1, 2 -> rank differences 0, 0, 1, -1: rho = 1 - 6*2 / (4*15) = 0.8;
    Kendall: 6 pairs, only (38, 37) discordant: tau = (5 - 1) / 6 = 2/3.
    """
    space = np.arange(1.0, 41.0)
    truth = np.array([40.0, 39, 38, 37, 30, 20, 10, 5, 3, 1])
    scores = np.array([4.0, 3, 1, 2, 0, -1, -2, -3, -4, -5])
    result = correlations(scores, truth, top_percent=10, space_truth=space)
    assert result.n_top == 4 and result.top_threshold == 37.0
    assert result.spearman_top == pytest.approx(0.8)
    assert result.kendall_top == pytest.approx(2 / 3)
    # without the space, the sample is the space: its top 10% is 1 architecture, too few to correlate
    sample_only = correlations(scores, truth, top_percent=10)
    assert sample_only.n_top == 1 and math.isnan(sample_only.spearman_top)
    # a lower-is-better ground truth (error = 100 - accuracy): the same subset, threshold in its own units
    flipped = correlations(scores, 100 - truth, truth_sign=-1.0, top_percent=10, space_truth=100 - space)
    assert (flipped.n_top, flipped.top_threshold) == (4, 63.0)
    assert flipped.spearman_top == pytest.approx(0.8) and flipped.kendall_top == pytest.approx(2 / 3)
    # a sample with no member in the space's top: n 0, no correlation
    none = correlations(scores[4:], truth[4:], top_percent=10, space_truth=space)
    assert none.n_top == 0 and math.isnan(none.spearman_top)


def test_top5_correlation_is_computed_on_the_subset():
    rng = np.random.default_rng(1)
    space = rng.normal(size=4000)
    sample = rng.choice(4000, size=400, replace=False)
    truth = space[sample]
    scores = truth + rng.normal(size=400)
    top = truth >= np.sort(space)[-200]  # the 200 best of 4000
    result = correlations(scores, truth, top_percent=5, space_truth=space)
    assert result.n_top == top.sum() and 5 < result.n_top < 40
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

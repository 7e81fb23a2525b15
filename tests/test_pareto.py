import numpy as np

from nasproxy_bench.pareto import budget_sweep, default_budgets, pareto_front


def test_pareto_front_by_hand():
    cost = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
    truth = np.array([50.0, 40.0, 60.0, 55.0, 70.0])
    # (1,50) kept; (2,60) dominates (2,40); (3,55) dominated by (2,60); (4,70) kept
    assert pareto_front(cost, truth).tolist() == [0, 2, 4]


def test_budget_sweep_picks_and_regret_by_hand():
    cost = np.array([1.0, 2.0, 3.0, 4.0])
    truth = np.array([60.0, 70.0, 65.0, 90.0])
    scores = np.array([0.9, 0.1, 0.5, np.nan])  # proxy likes the cheapest; last one unscored
    sweep = budget_sweep(scores, cost, truth, np.array([1.5, 3.0, 4.0]))
    assert sweep["pick"].tolist() == [0, 0, 0]
    assert sweep["oracle"].tolist() == [0, 1, 3]
    assert sweep["regret"].tolist() == [0.0, 10.0, 30.0]
    flipped = budget_sweep(-scores, cost, truth, np.array([3.0]), score_sign=-1.0)
    assert flipped["pick"].tolist() == [0]


def test_default_budgets_span_cost_quantiles():
    budgets = default_budgets(np.arange(1.0, 101.0))
    assert len(budgets) == 10 and budgets[-1] == 100.0 and budgets[0] < 12

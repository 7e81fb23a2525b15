import math

import pandas as pd
import pytest

from nasproxy_bench.literature import NB201_SPR, SOURCES, TOLERANCE, UNCONFIRMED, fidelity_table


def test_fidelity_table_flags_deviations_and_uses_abs_for_ntk():
    summary = pd.DataFrame([
        {"benchmark": "nb201", "proxy": "synflow", "dataset": "cifar10", "n": 1000, "spearman_mean": 0.78},
        {"benchmark": "nb201", "proxy": "synflow", "dataset": "cifar100", "n": 1000, "spearman_mean": 0.82},
        {"benchmark": "nb201", "proxy": "ntk_cond", "dataset": "cifar10", "n": 60, "spearman_mean": -0.47},
        {"benchmark": "other", "proxy": "synflow", "dataset": "cifar10", "n": 5, "spearman_mean": 0.0},
        {"benchmark": "nb201", "proxy": "my_proxy", "dataset": "cifar10", "n": 5, "spearman_mean": 0.9},
    ])
    extra = pd.DataFrame([  # other settings of the same proxy: a smaller sample, another batch size, a list run
        {"benchmark": "nb201", "proxy": "synflow", "dataset": "cifar10", "n": 300, "spearman_mean": 0.1, "batch_size": 64},
        {"benchmark": "nb201", "proxy": "synflow", "dataset": "cifar10", "n": 5000, "spearman_mean": 0.2, "batch_size": 128},
        {"benchmark": "nb201", "proxy": "synflow", "dataset": "cifar10", "n": 9000, "spearman_mean": 0.3, "sample_seed": -1},
    ])
    summary = pd.concat([summary.assign(batch_size=64, sample_seed=0), extra.fillna({"batch_size": 64, "sample_seed": 0})])
    table = fidelity_table(summary, {"synflow": 0.70, "ntk_cond": -0.40}).set_index(["proxy", "dataset"])
    assert len(table) == 3  # other benchmark and unpublished proxy left out
    c10 = table.loc[("synflow", "cifar10")]
    assert c10["deviation"] == pytest.approx(0.04) and bool(c10["within_0.05"])
    assert c10["ours_vs_cifar10_valid"] == 0.70
    c100 = table.loc[("synflow", "cifar100")]
    assert c100["deviation"] == pytest.approx(0.06) and not c100["within_0.05"] and math.isnan(c100["ours_vs_cifar10_valid"])
    ntk = table.loc[("ntk_cond", "cifar10")]
    assert ntk["ours"] == pytest.approx(0.47) and ntk["ours_vs_cifar10_valid"] == pytest.approx(0.40)
    assert abs(ntk["deviation"]) <= TOLERANCE
    assert table.loc[("synflow", "cifar10"), "source"] == SOURCES["synflow"]


def test_every_published_value_names_its_source_and_none_credits_the_survey():
    assert set(SOURCES) == set(NB201_SPR)
    for proxy, source in SOURCES.items():
        assert "survey" not in source.lower(), proxy  # the survey prints no NB201 SPR numbers
        # a citation is either confirmed (names a paper with its year) or says it is unconfirmed
        assert source.startswith(f"{UNCONFIRMED}: candidate ") or "20" in source, proxy

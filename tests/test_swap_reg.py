"""Regularised SWAP (swap_reg): the size factor and its combine over a sample, computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasproxy_bench.proxies.swap import regularisation_factor, regularised_swap
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.report import derived_groups, group_scores
from nasproxy_bench.runner import resolve_proxies
from nasproxy_bench.store import Record, ResultStore, RunKey

# Θ = 0.1, 0.2, 0.3 million parameters -> μ = σ = 0.3 (the largest),
# (Θ − μ)² / σ = 0.04 / 0.3 = 2/15, 0.01 / 0.3 = 1/30 and 0.
SWAP = np.array([100.0, 200.0, 300.0])
PARAMS_M = np.array([0.1, 0.2, 0.3])
BY_HAND = [100.0 * math.exp(-2 / 15), 200.0 * math.exp(-1 / 30), 300.0]


def test_regularisation_factor_is_the_papers_formula_with_sigma_not_squared():
    assert regularisation_factor(np.array([1500.0, 1000.0]), 1000.0, 250_000.0) == pytest.approx([math.exp(-1.0), 1.0])
    assert regularisation_factor(np.array([0.0]), 2.0, 2.0) == pytest.approx([math.exp(-2.0)])


def test_regularised_swap_on_three_architectures_by_hand():
    out = regularised_swap([SWAP, PARAMS_M], [1.0, 1.0])
    assert out == pytest.approx(BY_HAND)  # 87.51, 193.44, 300
    # the signs are not used: the factor multiplies the raw count
    assert regularised_swap([SWAP, PARAMS_M], [-1.0, -1.0]) == pytest.approx(BY_HAND)


def test_an_architecture_with_a_nan_component_is_left_out_not_scored():
    swap = np.array([100.0, np.nan, 200.0, 300.0, 250.0])
    params = np.array([0.1, 0.5, 0.2, 0.3, np.nan])
    out = regularised_swap([swap, params], [1.0, 1.0])
    assert math.isnan(out[1]) and math.isnan(out[4])
    # the left-out 0.5 M network does not become μ: the other three score as without it
    assert out[[0, 2, 3]] == pytest.approx(BY_HAND)
    assert np.isnan(regularised_swap([np.array([np.nan]), np.array([0.1])], [1.0, 1.0])).all()


def test_the_largest_network_keeps_its_swap_score_and_an_empty_one_is_not_divided_by_zero():
    out = regularised_swap([np.array([5.0, 7.0]), np.array([0.4, 0.4])], [1.0, 1.0])
    assert out == pytest.approx([5.0, 7.0])
    assert regularised_swap([np.array([5.0]), np.array([0.0])], [1.0]) == pytest.approx([5.0])


def test_swap_reg_runs_as_swap_and_params_and_stays_out_of_all():
    spec = get_proxy("swap_reg")
    assert spec.derived_from == ("swap", "params") and spec.opt_in and spec.family == "ensemble"
    assert {s.name for s in resolve_proxies(["swap_reg"])} == {"swap", "params"}
    assert "swap" not in {s.name for s in resolve_proxies(["all"])}
    with pytest.raises(RuntimeError, match="report computes it"):
        spec.fn(None)


def test_report_derives_swap_reg_from_stored_swap_and_params(tmp_path):
    prov = {"torch_version": "x", "device": "cpu"}
    with ResultStore(tmp_path / "s.h5") as store:
        for arch, swap, params in zip("abc", SWAP, PARAMS_M, strict=True):
            store.add(RunKey("nb201", "cifar10", "swap", "1", 0, 64, 0), arch, Record(float(swap), 1.0), prov)
            store.add(RunKey("nb201", "cifar10", "params", "1", 0, 64, 0), arch, Record(float(params), 0.0), prov)
    groups = [g for g in derived_groups(ResultStore(tmp_path / "s.h5")) if g.key.proxy == "swap_reg"]
    assert len(groups) == 1 and groups[0].key.proxy_version == "1+1+1"
    assert group_scores(groups[0]).reindex(list("abc")).to_numpy() == pytest.approx(BY_HAND)

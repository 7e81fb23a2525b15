"""logsynflow, MeCo, SWAP and AZ-NAS on tiny networks whose values are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nasproxy_bench.proxies.aznas import aggregate_log_ranks, eigen_entropy, pair_trainability
from nasproxy_bench.proxies.swap import distinct_neuron_patterns
from nasproxy_bench.registry import get_proxy, proxies
from nasproxy_bench.runner import resolve_proxies
from tests.test_proxies import context, score


def test_logsynflow_on_a_two_layer_linear_chain_by_hand():
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 1.0]]))
        net[1].weight.copy_(torch.tensor([[3.0, -1.0]]))
    # all-ones input, |W|: R = |W2| |W1| 1 ; dR/dW1_ij = |W2|_i ; dR/dW2_i = (|W1| 1)_i = (3, 1.5)
    expected = (1 * math.log(4) + 2 * math.log(4) + 0.5 * math.log(2) + 1 * math.log(2)
                + 3 * math.log(1 + 3) + 1 * math.log(1 + 1.5))
    ctx = context(net, torch.randn(4, 2), torch.zeros(4, dtype=torch.long), n_out=1)
    assert score("logsynflow", ctx) == pytest.approx(expected, rel=1e-12)
    assert torch.equal(net[0].weight, torch.tensor([[1.0, -2.0], [0.5, 1.0]]))  # the model is untouched


def test_meco_sums_min_eigenvalues_of_channel_correlation_over_all_modules():
    # one sample, 2 channels over 3 positions: a = (1, 2, 3), b = (-1, 3, 2); ReLU makes b = (0, 3, 2)
    first = torch.tensor([[[[1.0, 2.0, 3.0]], [[-1.0, 3.0, 2.0]]]])
    other = torch.randn(1, 2, 1, 3)  # MeCo reads only the first image
    x = torch.cat([first, other])
    # r(a, b) = 3 / sqrt(2 * 78/9); r(a, relu b) = 2 / sqrt(2 * 14/3); λ_min of [[1, r], [r, 1]] = 1 - |r|
    r_identity = 3 / math.sqrt(2 * 78 / 9)
    r_relu = 2 / math.sqrt(2 * 14 / 3)
    net = nn.Sequential(nn.Identity(), nn.ReLU())  # hooks: Sequential (= ReLU output), Identity, ReLU
    ctx = context(net, x, torch.zeros(2, dtype=torch.long), n_out=2)
    assert score("meco", ctx) == pytest.approx((1 - r_identity) + 2 * (1 - r_relu), rel=1e-12)


def test_meco_constant_channel_counts_as_zero_correlation():
    # channel b constant: its row of P, diagonal included, is NaN -> 0 (as in the reference), so λ_min = 0, not NaN
    x = torch.tensor([[[[1.0, 2.0, 4.0]], [[5.0, 5.0, 5.0]]]])
    ctx = context(nn.Identity(), x, torch.zeros(1, dtype=torch.long), n_out=2)
    assert score("meco", ctx) == 0.0


def test_meco_opt_equals_meco_when_a_map_has_exactly_eight_channels():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 3, 3)
    ctx = context(nn.Identity(), x, torch.zeros(1, dtype=torch.long), n_out=8)
    assert score("meco_opt", ctx) == pytest.approx(score("meco", ctx), rel=1e-12)


def test_distinct_neuron_patterns_by_hand_and_beyond_the_packed_range():
    active = torch.tensor([[1, 0, 1, 1, 0], [0, 0, 1, 1, 1]], dtype=torch.bool)
    # columns over the 2 samples: (1,0) (0,0) (1,1) (1,1) (0,1) -> 4 distinct
    assert distinct_neuron_patterns(active) == 4
    gen = torch.Generator().manual_seed(0)
    many = torch.rand((70, 300), generator=gen) > 0.9
    many[:, 1] = many[:, 0]
    assert distinct_neuron_patterns(many) == len({tuple(c.tolist()) for c in many.T})
    for samples in (20, 21, 31, 32, 62):  # histogram count, int32 sort, int64 sort
        part = many[:samples]
        assert distinct_neuron_patterns(part) == len({tuple(c.tolist()) for c in part.T}), samples
    high_bit = torch.zeros((32, 3), dtype=torch.bool)
    high_bit[31, 0] = high_bit[0, 1] = True  # codes 2**31, 1, 0: no int32 overflow folds them together
    assert distinct_neuron_patterns(high_bit) == 3


def test_swap_counts_distinct_relu_patterns_of_a_weightless_network():
    # samples x (1 channel, 1 x 4 positions); ReLU-active patterns per position over 3 samples:
    # pos0 (1,1,0) pos1 (0,0,0) pos2 (1,1,0) pos3 (0,1,1) -> 3 distinct; the mean over re-inits is the same
    x = torch.tensor([[1.0, -1.0, 2.0, -3.0], [2.0, -2.0, 1.0, 4.0], [-1.0, -1.0, -5.0, 1.0]]).reshape(3, 1, 1, 4)
    ctx = context(nn.Sequential(nn.ReLU()), x, torch.zeros(3, dtype=torch.long), n_out=4)
    assert score("swap", ctx) == 3.0


def test_eigen_entropy_of_isotropic_and_of_rank_one_features():
    iso = torch.tensor([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]]).reshape(1, 2, 1, 4)  # covariance I
    assert eigen_entropy(iso) == pytest.approx(math.log(2), abs=1e-7)
    rank_one = torch.tensor([[1.0, -1.0, 1.0, -1.0], [2.0, -2.0, 2.0, -2.0]]).reshape(1, 2, 1, 4)
    assert eigen_entropy(rank_one) == pytest.approx(0.0, abs=1e-6)


def test_pair_trainability_of_scale_identity_and_downsampling_blocks():
    gen = torch.Generator().manual_seed(0)
    f_in = torch.randn(2, 1, 2, 2, requires_grad=True)
    # f_out = 2 f_in: g_in = 2 g_out, mean g_in g_out = 2 -> σ = 2 -> 2 - 2 - 1/2
    assert pair_trainability(f_in, 2 * f_in, gen) == pytest.approx(-0.5, abs=1e-6)
    assert pair_trainability(f_in, f_in * 1.0, gen) == -math.inf
    # 2x2 sum pooling: each of the 4 unshuffled input channels carries g_out -> mat = (1,1,1,1)ᵀ, σ = 2
    summed = nn.functional.avg_pool2d(f_in, 2) * 4
    assert pair_trainability(f_in, summed, gen) == pytest.approx(-0.5, abs=1e-6)
    # an output that ignores the input: g_in = 0 -> σ = 0 -> 2 - 1/1e-6
    assert pair_trainability(f_in, torch.zeros(2, 1, 2, 2), gen) == pytest.approx(2 - 1e6)


def test_aggregate_log_ranks_by_hand():
    scores = [np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])]
    out = aggregate_log_ranks(scores, [1.0, 1.0])
    assert out == pytest.approx([math.log(1 / 3), 2 * math.log(2 / 3), math.log(1 / 3)])
    flipped = aggregate_log_ranks(scores, [1.0, -1.0])  # both components now agree: ranks 1,2,3 twice
    assert flipped == pytest.approx([2 * math.log(1 / 3), 2 * math.log(2 / 3), 0.0])
    with_gaps = aggregate_log_ranks([np.array([1.0, np.nan, -np.inf]), np.array([1.0, 5.0, 0.0])], [1.0, 1.0])
    assert math.isnan(with_gaps[1]) and with_gaps[0] == pytest.approx(0.0) and with_gaps[2] == pytest.approx(2 * math.log(1 / 2))


def test_az_nas_is_derived_from_its_stored_components_and_listed():
    spec = get_proxy("az_nas")
    assert spec.derived_from == ("az_expressivity", "az_progressivity", "az_trainability", "flops")
    assert {s.name for s in resolve_proxies(["az_nas"])} == set(spec.derived_from)
    assert {"logsynflow", "meco", "meco_opt", "swap", "az_nas"} <= set(proxies())

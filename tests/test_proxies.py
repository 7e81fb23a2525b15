"""Proxies on tiny networks with closed forms, plus the contract every proxy must keep."""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from nasproxy_bench.benchmark import Benchmark, Dataset, Direction, Metric, TaskKind
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.inputs import Batch
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.proxies.ensemble import majority_vote
from nasproxy_bench.registry import get_proxy, proxies
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_OK, STATUS_UNSUPPORTED


class NoCells(Benchmark):
    """A space without cells (for unsupported-network checks)."""

    name = "nocells"

    def parse(self, text):  # pragma: no cover - not used
        return text

    def canonical(self, arch):  # pragma: no cover
        return arch

    def archs(self):
        return ["a"]

    def ground_truth(self, dataset, metric=None):  # pragma: no cover
        raise NotImplementedError

    def costs(self, dataset):  # pragma: no cover
        raise NotImplementedError

    def build(self, arch, dataset):  # pragma: no cover
        raise NotImplementedError


def context(model, x, y, *, n_out, task=TaskKind.CLASSIFICATION, batches=None, seed=0, requested=frozenset()):
    ds = Dataset("toy", tuple(x.shape[1:]), n_out, task, (Metric("acc", Direction.HIGHER),), "acc")
    batches = batches or [Batch(x, y, "toy", False, seed)]
    return ProxyContext(NoCells("."), "a", ds, model, batches, seed, torch.device("cpu"), frozenset(requested))


def score(name, ctx):
    record = evaluate(get_proxy(name), ctx)
    assert record.status == STATUS_OK, record.message
    return record.score


@pytest.fixture
def linear2():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3, bias=False), nn.Linear(3, 5, bias=False))
    x = torch.randn(6, 4)
    y = torch.tensor([0, 1, 2, 3, 4, 0])
    return net, x, y


def _closed_form_grads(net, x, y):
    w1 = net[0].weight.detach().double().numpy()
    w2 = net[1].weight.detach().double().numpy()
    xs = x.double().numpy()
    h = xs @ w1.T
    z = h @ w2.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d = (p - np.eye(5)[y.numpy()]) / len(xs)  # dL/dz for the mean cross-entropy
    return [w1, w2], [(d @ w2).T @ xs, d.T @ h]


def test_gradient_saliencies_match_closed_form_on_two_layer_linear_net(linear2):
    net, x, y = linear2
    weights, grads = _closed_form_grads(net, x, y)
    ctx = context(net, x, y, n_out=5)
    assert score("grad_norm", ctx) == pytest.approx(sum(np.linalg.norm(g) for g in grads), rel=1e-5)
    assert score("snip", ctx) == pytest.approx(sum(np.abs(w * g).sum() for w, g in zip(weights, grads, strict=True)), rel=1e-5)
    assert score("plain", ctx) == pytest.approx(sum((w * g).sum() for w, g in zip(weights, grads, strict=True)), rel=1e-4, abs=1e-7)
    assert score("l2_norm", ctx) == pytest.approx(sum(np.linalg.norm(w) for w in weights), rel=1e-6)


def test_fisher_by_hand_counts_each_channel_once_per_weight(linear2):
    """Σ_layers fan_in x Σ_c ½ mean_n (z ⊙ ∂L/∂z)², fan-in 4 and 3 (the reference code's per-weight broadcast)."""
    net, x, y = linear2
    (w1, w2), _ = _closed_form_grads(net, x, y)
    h = x.double().numpy() @ w1.T
    z = h @ w2.T
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d = (p - np.eye(5)[y.numpy()]) / len(h)
    expected = 4 * 0.5 * ((h * (d @ w2)) ** 2).mean(0).sum() + 3 * 0.5 * ((z * d) ** 2).mean(0).sum()
    assert score("fisher", context(net, x, y, n_out=5)) == pytest.approx(expected, rel=1e-5)
    assert get_proxy("fisher").version == "2"


def test_fisher_weights_a_convolution_by_its_kernel_area():
    """Same outputs, a 3x3 kernel whose other taps are zero: 9x a 1x1 layer's Fisher (fan-in 2 x 9 against 2)."""
    torch.manual_seed(0)
    one = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    three = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    with torch.no_grad():
        three[0].weight.zero_()
        three[0].weight[:, :, 1, 1] = one[0].weight[:, :, 0, 0]
    x, y = torch.randn(4, 2, 5, 5), torch.tensor([0, 1, 2, 0])
    assert score("fisher", context(three, x, y, n_out=3)) == pytest.approx(9 * score("fisher", context(one, x, y, n_out=3)), rel=1e-6)


def test_synflow_is_depth_times_path_sum_on_linear_chain(linear2):
    net, x, y = linear2
    w1, w2 = (np.abs(m.weight.detach().double().numpy()) for m in net)
    r = np.ones(5) @ w2 @ w1 @ np.ones(4)  # R = 1ᵀ|W2||W1|1; each layer contributes R (Euler)
    assert score("synflow", context(net, x, y, n_out=5)) == pytest.approx(2 * r, rel=1e-12)


def test_synflow_stays_finite_beyond_float32_range():
    net = nn.Sequential(*[nn.Linear(10, 10, bias=False) for _ in range(30)])
    with torch.no_grad():
        for m in net:
            m.weight.fill_(-2.0)  # |θ| = 2
    r = 10 * 20.0**30  # 1ᵀ (2J)^30 1 with J the all-ones 10x10 matrix
    value = score("synflow", context(net, torch.zeros(2, 10), torch.zeros(2, dtype=torch.long), n_out=10))
    assert value > 3.4e38 and math.isfinite(value)
    assert value == pytest.approx(30 * r, rel=1e-9)


def test_naswot_hamming_kernel_by_hand():
    net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.eye(2))
    x = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]])  # codes 11, 10, 00
    kernel = np.array([[2, 1, 0], [1, 2, 1], [0, 1, 2]], dtype=float)  # agreements
    expected = np.linalg.slogdet(kernel)[1]
    assert score("naswot", context(net, x, torch.zeros(3, dtype=torch.long), n_out=2)) == pytest.approx(expected)


def test_jacob_cov_on_a_linear_model_and_nan_for_an_input_blind_network():
    net = nn.Linear(3, 2, bias=False)
    x = torch.randn(4, 3)
    y = torch.zeros(4, dtype=torch.long)
    # identical Jacobian rows (Wᵀ1): correlation matrix of ones, eigenvalues (4, 0, 0, 0)
    eig = np.array([4.0, 0.0, 0.0, 0.0]) + 1e-5
    expected = -np.sum(np.log(eig) + 1 / eig)
    assert score("jacob_cov", context(net, x, y, n_out=2)) == pytest.approx(expected, rel=1e-6)
    blind = nn.Sequential(nn.Linear(3, 2), nn.Flatten())
    with torch.no_grad():
        blind[0].weight.zero_()
    assert math.isnan(score("jacob_cov", context(blind, x, y, n_out=2)))  # kept as NaN -> coverage


class SquareSum(nn.Module):
    """logits = (x ⊙ x) A: the Jacobian of the summed logits is 2 x ⊙ (A 1), a different row per sample."""

    def __init__(self, a: torch.Tensor) -> None:
        super().__init__()
        self.a = nn.Parameter(a)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * x) @ self.a


def test_epe_nas_by_hand_and_unsupported_without_two_repeated_classes():
    torch.manual_seed(0)
    a = torch.randn(4, 3)
    x = torch.randn(7, 4)
    y = torch.tensor([0, 1, 0, 2, 1, 2, 2])
    jac = (2 * x * a.sum(dim=1)).double().numpy()
    per_class = [float(np.sum(np.log(np.abs(np.corrcoef(jac[y.numpy() == c])) + 1e-5))) for c in (0, 1, 2)]
    pairs = [abs(si - sj) for i, si in enumerate(per_class) for j, sj in enumerate(per_class) if i != j]
    assert score("epe_nas", context(SquareSum(a), x, y, n_out=3)) == pytest.approx(np.mean(pairs), rel=1e-6)
    # only class 0 repeats (classes 1 and 2 have one sample each): no pair of classes to compare, for any network
    record = evaluate(get_proxy("epe_nas"), context(SquareSum(a), x[:4], torch.tensor([0, 1, 0, 2]), n_out=3))
    assert record.status == STATUS_UNSUPPORTED and "larger --batch-size" in record.message


def test_grasp_of_a_batchnorm_network_is_the_classifiers_residual():
    """Each conv feeds a train-mode BatchNorm, so its −θ·(Hg) is +‖g‖² (scale invariance) and cancels against the
    classifier's term: grasp = −(1/B) Σ_i (∂p_i along g)ᵀ (z_i − b), written here with a forward-mode derivative."""
    from torch.func import functional_call, jvp

    torch.manual_seed(0)
    bn = dict(eps=1e-12, track_running_stats=False)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, **bn), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.BatchNorm2d(6, **bn),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 5)).double()
    x, y = torch.randn(8, 3, 7, 7, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 4, 0, 1, 2])
    ours = score("grasp", context(net, x, y, n_out=5, requested=frozenset({"grasp"})))

    params = {n: p.detach() for n, p in net.named_parameters()}
    names = [n for n in params if n.endswith("weight") and params[n].dim() in (2, 4)]  # conv/linear weights

    def logits(weights):
        return functional_call(net, {**params, **weights}, (x,))

    leaves = {n: params[n].clone().requires_grad_(True) for n in names}
    g = torch.autograd.grad(F.cross_entropy(logits(leaves), y), list(leaves.values()))
    z, dz = jvp(logits, ({n: params[n] for n in names},), (dict(zip(names, g, strict=True)),))
    p = torch.softmax(z, dim=1)
    dp = p * (dz - (p * dz).sum(1, keepdim=True))
    expected = float(-(dp * (z - params["8.bias"])).sum(1).mean())
    conv_part = sum(float((gi**2).sum()) for n, gi in zip(names, g, strict=True) if params[n].dim() == 4)
    assert abs(expected) < 0.5 * conv_part  # the cancellation is not trivial here
    assert ours == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", ["ntk_cond_ps", "ntk_cond_full"])  # without BatchNorm the two agree
def test_ntk_condition_number_of_linear_model_is_that_of_the_gram_matrix(name):
    net = nn.Linear(5, 1, bias=False)
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(1))
    eig = np.linalg.eigvalsh(x.double().numpy() @ x.double().numpy().T)
    ctx = context(net, x, torch.zeros(4, dtype=torch.long), n_out=1)
    assert score(name, ctx) == pytest.approx(eig[-1] / eig[0], rel=1e-6)
    assert get_proxy(name).direction is Direction.LOWER


def test_ntk_cond_full_couples_batchnorm_like_a_loop_of_backward_passes(monkeypatch):
    """Reference: TE-NAS's procedure written out, one backward per sample through one forward."""
    torch.manual_seed(3)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 2))
    x = torch.randn(7, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    monkeypatch.setattr("nasproxy_bench.proxies.gradient.NTK_CHUNK", 3)  # chunks of 3, 3, 1
    reference = copy.deepcopy(net)
    weights = [reference[0].weight, reference[1].weight, reference[4].weight]  # every *weight, BN scale included
    logits = reference(x)
    rows = []
    for i in range(len(x)):
        grads = torch.autograd.grad(logits[i].sum(), weights, retain_graph=True)
        rows.append(torch.cat([g.flatten() for g in grads]).double())
    jac = torch.stack(rows)
    eig = torch.linalg.eigvalsh(jac @ jac.T)
    ctx = context(net, x, torch.zeros(7, dtype=torch.long), n_out=2)
    coupled = score("ntk_cond_full", ctx)
    assert coupled == pytest.approx(float(eig[-1] / eig[0]), rel=1e-5)
    assert coupled != pytest.approx(score("ntk_cond_ps", ctx), rel=1e-2)  # per-sample BN is another kernel


def test_zen_reads_running_variance_after_clean_and_perturbed_pass():
    """Zen-NAS's recipe written out on a conv-BN-ReLU-GAP net (weights re-drawn from N(0, 1))."""
    net = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.BatchNorm2d(3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(3, 2))
    x_data = torch.zeros(5, 2, 4, 4)
    ctx = context(net, x_data, torch.zeros(5, dtype=torch.long), n_out=2, seed=7)
    gen = torch.Generator().manual_seed(7)
    w = torch.randn((3, 2, 1, 1), generator=gen)
    torch.randn((2, 3), generator=gen)  # the linear layer's weights come next
    x = torch.randn((5, 2, 4, 4), generator=gen)
    eps = torch.randn((5, 2, 4, 4), generator=gen)

    def pre_pool(inp):
        z = nn.functional.conv2d(inp, w)
        mean, var = z.mean(dim=(0, 2, 3), keepdim=True), z.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        return torch.relu((z - mean) / torch.sqrt(var + 1e-5)), z.var(dim=(0, 2, 3), unbiased=True)

    clean, var_clean = pre_pool(x)
    perturbed, var_perturbed = pre_pool(x + 0.01 * eps)
    running_var = 0.9 * (0.9 * 1.0 + 0.1 * var_clean) + 0.1 * var_perturbed  # momentum 0.1 from fresh stats
    expected = math.log(float((clean - perturbed).abs().sum(dim=(1, 2, 3)).mean())) + 0.5 * math.log(float(running_var.mean()))
    assert score("zen", ctx) == pytest.approx(expected, rel=1e-4)
    assert get_proxy("zen").version == "2"  # v1 used the batch variance: different scores, new store key


def test_opt_in_proxies_run_only_when_named():
    from nasproxy_bench.runner import resolve_proxies

    assert get_proxy("ntk_cond_full").opt_in
    default = [s.name for s in resolve_proxies(["all"])]
    assert "ntk_cond_full" not in default and "ntk_cond" in default and "ntk_cond_ps" in default
    assert [s.name for s in resolve_proxies(["all", "ntk_cond_full"])][-1] == "ntk_cond_full"


def test_gradsign_matches_a_loop_of_per_sample_backward_passes(linear2):
    net, x, y = linear2
    signs = 0
    for i in range(len(x)):
        net.zero_grad()
        nn.functional.cross_entropy(net(x[i:i + 1]), y[i:i + 1]).backward()
        signs = signs + torch.cat([torch.sign(m.weight.grad).flatten() for m in net])
    net.zero_grad(set_to_none=True)
    assert score("gradsign", context(net, x, y, n_out=5)) == pytest.approx(float(signs.abs().sum()))


def test_zico_closed_form_over_two_batches(linear2):
    net, x, y = linear2
    x2 = torch.randn(6, 4, generator=torch.Generator().manual_seed(5))
    batches = [Batch(x, y, "toy", False, 0), Batch(x2, y, "toy", False, 0)]
    g = [_closed_form_grads(net, b.x, b.y)[1] for b in batches]
    expected = 0.0
    for layer in range(2):
        stack = np.stack([g[0][layer].ravel(), g[1][layer].ravel()])
        std, mean_abs = stack.std(0), np.abs(stack).mean(0)
        expected += math.log((mean_abs[std > 0] / std[std > 0]).sum())
    assert score("zico", context(net, x, y, n_out=5, batches=batches)) == pytest.approx(expected, rel=1e-4)


def test_fisher_is_the_same_with_in_place_relu():
    def net(inplace):
        torch.manual_seed(3)
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(inplace=inplace), nn.Conv2d(4, 4, 3), nn.ReLU(inplace=inplace),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))

    x = torch.randn(5, 3, 8, 8)
    y = torch.tensor([0, 1, 2, 0, 1])
    a = score("fisher", context(net(False), x, y, n_out=3))
    b = score("fisher", context(net(True), x, y, n_out=3))
    assert a > 0 and a == pytest.approx(b, rel=1e-6)


def test_majority_vote_by_hand():
    # three proxies over three archs; proxy 3 is lower-is-better
    scores = [np.array([3.0, 2.0, 1.0]), np.array([1.0, 3.0, 2.0]), np.array([1.0, 2.0, 3.0])]
    # oriented: p1 = 3,2,1; p2 = 1,3,2; p3 = -1,-2,-3. a0 beats a1 (p1, p3), a0 beats a2 (p1, p3), a1 beats a2 (p1, p2, p3)
    assert majority_vote(scores, [1.0, 1.0, -1.0]).tolist() == [2.0, 1.0, 0.0]
    with_nan = majority_vote([np.array([1.0, np.nan])] * 3, [1.0] * 3)
    assert math.isnan(with_nan[1])


def test_topology_proxies_are_unsupported_without_cells(linear2):
    net, x, y = linear2
    record = evaluate(get_proxy("nn_mass"), context(net, x, y, n_out=5))
    assert record.status == STATUS_UNSUPPORTED and "no cell graph" in record.message


def test_synflow_bn_is_unsupported_where_batchnorm_sees_one_value_per_channel():
    """NDS ImageNet networks at 32 px end in 1x1 maps: train-mode BatchNorm on synflow_bn's single input is undefined."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4, 5))
    x, y = torch.randn(4, 3, 3, 3), torch.tensor([0, 1, 2, 3])
    record = evaluate(get_proxy("synflow_bn"), context(net, x, y, n_out=5))
    assert record.status == STATUS_UNSUPPORTED and "one value per channel" in record.message
    wider = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    assert score("synflow_bn", context(wider, torch.randn(4, 3, 5, 5), y, n_out=5)) > 0


@pytest.mark.parametrize("name", ["gradsign", "ntk_cond_ps"])
def test_per_sample_proxies_refuse_a_head_that_pools_a_batchnorm(name):
    """Per-sample BatchNorm then global pooling (TransNAS's pooled heads) gives every image the same logits."""
    torch.manual_seed(0)
    x, y = torch.randn(6, 3, 6, 6), torch.tensor([0, 1, 2, 3, 4, 0])
    pooled_bn = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    record = evaluate(get_proxy(name), context(pooled_bn, x, y, n_out=5))
    assert record.status == STATUS_UNSUPPORTED and "same output" in record.message
    with_relu = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    assert math.isfinite(score(name, context(with_relu, x, y, n_out=5)))


@pytest.mark.parametrize("name", ["gradsign", "ntk_cond_ps"])
def test_per_sample_proxies_score_a_weakly_input_dependent_network(name):
    """Outputs that differ by 1e-6 relative (an untrained language model's) are a signal, not rounding.

    float32 cannot tell this spread from BatchNorm-then-pooling rounding (both ~1e-6); the float64
    check can (rounding ~1e-14 there).
    """
    torch.manual_seed(0)
    # 8 input features for 6 samples: the per-sample weight gradients (the inputs, for a linear
    # net) span 6 dimensions, so ntk_cond_ps's 6 x 6 kernel is well-conditioned. With 4 features
    # it was singular and the condition number's sign of a ~0 eigenvalue depended on the CPU.
    x, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    net = nn.Sequential(nn.Linear(8, 5))
    with torch.no_grad():
        net[0].weight.mul_(1e-6)
        net[0].bias.copy_(torch.linspace(1.0, 2.0, 5))
    outputs = net(x).detach()
    assert float((outputs - outputs[:1]).abs().max() / outputs.abs().max()) < 1e-5
    assert math.isfinite(score(name, context(net, x, y, n_out=5)))


def test_the_float64_check_compares_the_first_sample_with_the_one_farthest_from_it():
    """Only one sample differs (weakly) from the others: the float64 pair must include it, or the network looks input-blind."""
    from nasproxy_bench.proxies.per_sample import check_per_sample_signal

    torch.manual_seed(0)
    x = torch.randn(1, 8).repeat(6, 1)
    x[4] = torch.randn(8)
    net = nn.Sequential(nn.Linear(8, 5))
    with torch.no_grad():
        net[0].weight.mul_(1e-6)
        net[0].bias.copy_(torch.linspace(1.0, 2.0, 5))
    check_per_sample_signal(context(net, x, torch.tensor([0, 1, 2, 3, 4, 0]), n_out=5))  # no UnsupportedNetwork
    x[4] = x[0]
    with pytest.raises(UnsupportedNetwork, match="same output"):
        check_per_sample_signal(context(net, x, torch.tensor([0, 1, 2, 3, 4, 0]), n_out=5))


class _LoopedLinear(nn.Sequential):
    per_sample_loop = True


class _WithUnusedLayer(nn.Module):
    """A network one of whose linear layers the output never uses (a dead node of an NB-NLP recipe)."""

    def __init__(self, loop: bool) -> None:
        super().__init__()
        self.per_sample_loop = loop
        self.used = nn.Linear(4, 5)
        self.unused = nn.Linear(4, 5)

    def forward(self, x):
        return self.used(x)


@pytest.mark.parametrize("name", ["gradsign", "ntk_cond_ps"])
def test_the_per_sample_loop_gives_an_unused_weight_zero_gradient_like_vmap(linear2, name):
    _, x, y = linear2
    torch.manual_seed(0)
    vmapped = _WithUnusedLayer(loop=False)
    looped = copy.deepcopy(vmapped)
    looped.per_sample_loop = True
    assert score(name, context(looped, x, y, n_out=5)) == pytest.approx(score(name, context(vmapped, x, y, n_out=5)), rel=1e-12)


@pytest.mark.parametrize("name", ["gradsign", "ntk_cond_ps"])
def test_a_network_can_ask_for_a_per_sample_loop_instead_of_vmap(linear2, monkeypatch, name):
    """``per_sample_loop`` (recurrent networks: vmap keeps a gradient per time step) gives vmap's values without vmap."""
    import nasproxy_bench.proxies.per_sample as per_sample

    net, x, y = linear2
    expected = score(name, context(net, x, y, n_out=5))
    looped = _LoopedLinear(*copy.deepcopy(list(net)))

    def no_vmap(*args, **kwargs):
        raise AssertionError("vmap called for a per_sample_loop network")

    monkeypatch.setattr(per_sample, "vmap", no_vmap)
    assert score(name, context(looped, x, y, n_out=5)) == pytest.approx(expected, rel=1e-6)  # gathered
    monkeypatch.setattr(per_sample._Gathered, "build", lambda net, objective: None)
    assert score(name, context(looped, x, y, n_out=5)) == pytest.approx(expected, rel=1e-12)  # looped


def test_ntk_cond_ps_builds_a_large_kernel_chunk_by_chunk_with_the_same_value(monkeypatch):
    """J Jᵀ in float64 from column chunks (no float64 copy of an NB-NLP-sized J) gives the one-shot value."""
    import nasproxy_bench.proxies.gradient as gradient

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 5))  # 6 samples, J of rank 6: finite condition
    x, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    whole = score("ntk_cond_ps", context(net, x, y, n_out=5))
    monkeypatch.setattr(gradient, "GRAM_CHUNK", 7)  # the 48 + 30 weights in chunks of 7 columns
    chunked = score("ntk_cond_ps", context(net, x, y, n_out=5))
    assert math.isfinite(whole) and chunked == pytest.approx(whole, rel=1e-9)
    jac = torch.randn(4, 10, dtype=torch.float32)
    assert torch.allclose(gradient._float64_gram(jac), jac.double() @ jac.double().T, rtol=1e-12, atol=0)


def test_a_kernel_singular_up_to_float64_rounding_has_an_infinite_condition_number():
    import nasproxy_bench.proxies.gradient as gradient

    eps = torch.finfo(torch.float64).eps
    gram = torch.diag(torch.tensor([1.0, 1e-3, 3 * eps], dtype=torch.float64))  # 3 eps <= 3 * eps * 1: rounding
    assert gradient._condition_number_of_gram(gram, singular_below=3 * eps) == math.inf
    assert gradient._condition_number_of_gram(gram) == pytest.approx(1 / (3 * eps))  # ntk_cond keeps the old rule
    gram[2, 2] = 1e-6
    assert gradient._condition_number_of_gram(gram, singular_below=3 * eps) == pytest.approx(1e6)


def test_task_mismatch_is_unsupported_not_a_crash(linear2):
    net, x, y = linear2
    record = evaluate(get_proxy("snip"), context(net, x, y, n_out=5, task=TaskKind.SEQUENCE))
    assert record.status == STATUS_UNSUPPORTED


NB201_ARCH = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def _nb201_context(fake_root, seed=0):
    from nasproxy_bench.adapters.nb201 import NB201Benchmark
    from nasproxy_bench.inputs import fixed_batches
    from nasproxy_bench.runner import build_model

    bench = NB201Benchmark(fake_root)
    model = build_model(bench, NB201_ARCH, "cifar10", seed, torch.device("cpu"))
    batches = fixed_batches(fake_root, "cifar10", seed, 16, 2)
    names = frozenset(n for n, s in proxies().items() if not s.derived_from)
    return ProxyContext(bench, NB201_ARCH, bench.dataset("cifar10"), model, batches, seed, torch.device("cpu"), names)


def test_all_proxies_leave_the_model_untouched_and_are_deterministic(fake_root):
    ctx = _nb201_context(fake_root)
    before = {k: v.clone() for k, v in ctx.model.state_dict().items()}
    # GenNAS trains 100 iterations per proxy (minutes here); tests/test_gennas_regression.py checks it the same way.
    specs = [s for s in proxies().values() if not s.derived_from and s.family != "gennas"]
    first = {s.name: evaluate(s, ctx) for s in specs}
    assert all(r.status == STATUS_OK for r in first.values()), {n: r.message for n, r in first.items() if r.status != STATUS_OK}
    after = ctx.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in ctx.model.parameters())
    again = _nb201_context(fake_root)
    second = {s.name: evaluate(s, again) for s in specs}
    for name in first:
        a, b = first[name].score, second[name].score
        assert a == pytest.approx(b, rel=1e-9) or (math.isnan(a) and math.isnan(b)), name


def test_structural_proxies_give_the_same_values_on_meta_networks(fake_root):
    from nasproxy_bench.runner import build_model, model_device

    ctx = _nb201_context(fake_root)
    meta = build_model(ctx.benchmark, ctx.arch, "cifar10", 0, torch.device("meta"))
    meta_ctx = dataclasses.replace(ctx, model=meta, cache={})
    for name in ("params", "flops"):
        assert score(name, meta_ctx) == score(name, ctx)
    assert model_device([get_proxy("params"), get_proxy("flops")], torch.device("cpu")).type == "meta"
    assert model_device([get_proxy("params"), get_proxy("snip")], torch.device("cpu")).type == "cpu"

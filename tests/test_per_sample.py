"""Per-sample gradients: the gathered path (one batched backward) against the exact per-sample loop."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasproxy_bench.adapters.nbnlp.arch import Recepie
from nasproxy_bench.adapters.nbnlp.network import RecurrentLM
from nasproxy_bench.benchmark import Dataset, Direction, Metric, TaskKind
from nasproxy_bench.inputs import Batch
from nasproxy_bench.proxies import per_sample
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_OK
from nasproxy_bench.tasks import LanguageModel
from tests.test_proxies import NoCells, context

# a gated cell: two recurrent linear nodes, a blend, a product (every weight used at every step)
CELL = ("n0=linear(x,h_prev_0);n1=activation_sigm(n0);n2=linear(x,h_prev_0);n3=activation_tanh(n2);"
        "n4=blend(n1,n3,h_prev_0);n5=elementwise_prod(n4,n1);h_new_0=activation_tanh(n5)")


def lm_context(model: nn.Module, batch: int = 5, length: int = 7, vocab: int = 20) -> ProxyContext:
    gen = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, vocab, (batch, length + 1), generator=gen)
    ds = Dataset("toy_lm", (length,), vocab, TaskKind.SEQUENCE, (Metric("ppl", Direction.LOWER),), "ppl",
                 LanguageModel())
    return ProxyContext(NoCells("."), "a", ds, model, [Batch(tokens[:, :-1], tokens[:, 1:], "toy_lm", False, 0)], 0,
                        torch.device("cpu"), frozenset())


def all_rows(ctx: ProxyContext, objective: str) -> torch.Tensor:
    """Every per-sample gradient as one (batch, n_weights) matrix: the blocks side by side."""
    return torch.cat(list(per_sample.per_sample_blocks(ctx, objective)), dim=1)


def gathered_rows(net: per_sample.PerSampleNetwork, objective: str) -> torch.Tensor | None:
    gathered = per_sample._Gathered.build(net, objective)
    if gathered is None:
        return None
    return torch.cat([gathered.block(name).reshape(len(net.ctx.batch.x), -1) for name in net.weight_names], dim=1)


def tiny_lm() -> RecurrentLM:
    torch.manual_seed(0)
    return RecurrentLM(Recepie.parse(CELL), 20, embedding=8, hidden=12, layers=2)


@pytest.mark.parametrize("objective", ["loss", "output"])
def test_gathered_rows_equal_the_per_sample_loop_on_a_recurrent_lm_with_tied_weights(objective):
    """Every row, including the decoder weight that is also the embedding (two kinds of use summed)."""
    ctx = lm_context(tiny_lm())
    net = per_sample.per_sample_network(ctx)
    assert net.loop
    gathered = gathered_rows(net, objective)
    looped = per_sample._looped(net, objective, range(5))
    assert gathered is not None and gathered.shape == looped.shape
    assert float(looped.abs().max()) > 0 and (looped != 0).float().mean() > 0.5
    torch.testing.assert_close(gathered, looped, rtol=1e-5, atol=1e-7)


class _LoopedBatchNormNet(nn.Module):
    """Linear layers around a BatchNorm: in a batch the samples share statistics, so one batched backward is wrong."""

    per_sample_loop = True

    def __init__(self) -> None:
        super().__init__()
        self.a, self.bn, self.b = nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 5)

    def forward(self, x):  # x: (batch, positions, 4); BatchNorm over the 6 channels of every position
        return self.b(torch.tanh(self.bn(self.a(x).transpose(1, 2)).transpose(1, 2))).mean(1)


class _FunctionalReuse(nn.Module):
    """Uses its linear layer's weight once more outside the module (a use no hook sees)."""

    per_sample_loop = True

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.out = nn.Linear(4, 5)

    def forward(self, x):
        return self.out(torch.tanh(nn.functional.linear(torch.tanh(self.lin(x)), self.lin.weight))).mean(1)


@pytest.mark.parametrize("make", [_LoopedBatchNormNet, _FunctionalReuse])
def test_a_network_the_gathered_path_gets_wrong_falls_back_to_the_loop(make):
    torch.manual_seed(0)
    x, y = torch.randn(6, 3, 4), torch.tensor([0, 1, 2, 3, 4, 0])
    ctx = context(make(), x, y, n_out=5)
    net = per_sample.per_sample_network(ctx)
    exact = per_sample._looped(net, "loss", range(6))
    wrong = gathered_rows(net, "loss")
    assert wrong is not None and not torch.allclose(wrong[-1], exact[-1], atol=1e-4)  # the check has something to catch
    torch.testing.assert_close(all_rows(ctx, "loss"), exact, rtol=1e-6, atol=0)


def test_a_layer_called_time_first_is_not_gathered():
    """A linear layer applied to a (time, batch, features) tensor: no batch-first layout, so the loop is used."""

    class TimeFirst(nn.Module):
        per_sample_loop = True

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 5)

        def forward(self, x):  # x: (batch, time, 4)
            return self.lin(x.transpose(0, 1)).mean(0)

    torch.manual_seed(0)
    x, y = torch.randn(3, 6, 4), torch.tensor([0, 1, 2])
    ctx = context(TimeFirst(), x, y, n_out=5)
    assert per_sample._Gathered.build(per_sample.per_sample_network(ctx), "loss") is None
    torch.testing.assert_close(all_rows(ctx, "loss"),
                               per_sample._looped(per_sample.per_sample_network(ctx), "loss", range(3)))


@pytest.mark.parametrize("name", ["gradsign", "ntk_cond_ps"])
def test_per_sample_proxies_on_a_recurrent_lm_match_the_loop(monkeypatch, name):
    ctx = lm_context(tiny_lm())
    record = evaluate(get_proxy(name), ctx)
    assert record.status == STATUS_OK, record.message
    monkeypatch.setattr(per_sample._Gathered, "build", lambda net, objective: None)  # the loop alone
    looped = evaluate(get_proxy(name), lm_context(tiny_lm()))
    # the condition number (3e5 here) magnifies float32 rounding of the gradients (~1e-7) to ~1e-5
    assert record.score == pytest.approx(looped.score, rel=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("make", [lambda: lm_context(tiny_lm()), lambda: _bn_context()])
def test_outputs_of_a_looped_network_are_each_samples_own_output(make, dtype):
    """Batched when the samples do not interact (the LM), one sample at a time when they do (BatchNorm)."""
    net = per_sample.PerSampleNetwork(make(), dtype)
    with torch.no_grad():
        alone = torch.stack([per_sample.task_output(net.ctx, net.output({}, x)) for x in net.inputs()])
    tol = (1e-5 if dtype == torch.float32 else 1e-12) * float(alone.abs().max())
    torch.testing.assert_close(net.outputs(), alone, rtol=0, atol=tol)


def _bn_context() -> ProxyContext:
    torch.manual_seed(0)
    return context(_LoopedBatchNormNet(), torch.randn(6, 3, 4), torch.tensor([0, 1, 2, 3, 4, 0]), n_out=5)


def test_the_batched_forward_of_a_batchnorm_network_differs_so_outputs_must_loop():
    net = per_sample.PerSampleNetwork(_bn_context())
    with torch.no_grad():
        together = net.model(net.inputs())[-1]
        alone = net.output({}, net.inputs()[-1])[0]
    assert not torch.allclose(together, alone, atol=1e-3)  # the check in ``outputs`` has something to catch


def test_the_gathered_path_yields_one_block_per_weight_and_vmap_one_for_all():
    """Block by block, the per-sample proxies never hold batch x all weights for a recurrent network."""
    ctx = lm_context(tiny_lm())
    net = per_sample.per_sample_network(ctx)
    params = dict(net.model.named_parameters())
    shapes = [tuple(b.shape) for b in per_sample.per_sample_blocks(ctx, "loss")]
    assert shapes == [(5, params[name].numel()) for name in net.weight_names] and len(shapes) > 2
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 5))
    ctx = context(model, torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0]), n_out=5)
    assert [tuple(b.shape) for b in per_sample.per_sample_blocks(ctx, "loss")] == [(6, 48 + 30)]


def test_releasing_a_context_frees_the_per_sample_network_without_garbage_collection():
    """The per-sample network refers back to its context: ``release`` breaks the cycle (no wait for gc)."""
    import gc
    import weakref

    def scored_context(release: bool):
        ctx = lm_context(tiny_lm())
        assert evaluate(get_proxy("gradsign"), ctx).status == STATUS_OK
        ref = weakref.ref(ctx.cache["per_sample_network"].model)
        if release:
            ctx.release()
        return ref

    gc.disable()
    try:
        kept, freed = scored_context(release=False), scored_context(release=True)
        assert kept() is not None  # the cycle the release is for
        assert freed() is None
    finally:
        gc.enable()
        gc.collect()

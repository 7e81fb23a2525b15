"""NAS-Bench-NLP language model: hand-computed parameter counts, shapes, task loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nasproxy_bench.adapters.nbnlp.arch import Recepie
from nasproxy_bench.adapters.nbnlp.inputs import build_vocabulary, window_starts
from nasproxy_bench.adapters.nbnlp.network import RecurrentLM, official_param_count
from nasproxy_bench.complexity import count_params
from nasproxy_bench.tasks import LanguageModel

ELMAN = Recepie.parse("f=linear(x,h_prev_0);h_new_0=activation_tanh(f)")


def test_official_elman_cell_count():
    # official log of recepie 1000000 (this cell): num_params 5,731,600.
    # embedding 10000x400 (shared with the decoder) + decoder bias 10000
    # + layer 1: 600x400 + 600x600 + 600; layer 2: 600x600 + 600x600 + 600; layer 3: 400x600 + 400x400 + 400
    expected = 10000 * 400 + 10000 + (240000 + 360000 + 600) + (360000 + 360000 + 600) + (240000 + 160000 + 400)
    assert expected == 5_731_600
    assert official_param_count(ELMAN, 10000) == expected
    with torch.device("meta"):
        assert count_params(RecurrentLM(ELMAN, 10000)) == expected


def test_tiny_cell_count_by_hand():
    cell = Recepie.parse("a=linear(x,h_prev_0,h_prev_1);s=activation_sigm(a);h_new_1=linear(s,x);"
                         "h_new_0=blend(s,h_new_1,h_prev_0)")
    # vocab 7, embedding 3, hidden 5, 2 layers (widths 5, 3)
    # layer 1 (in 3, width 5): a: 5*(3+5+5)+5 = 70; h_new_1: 5*(5+3)+5 = 45
    # layer 2 (in 5, width 3): a: 3*(5+3+3)+3 = 36; h_new_1: 3*(3+5)+3 = 27
    # embedding 7*3 = 21 (decoder weight shared), decoder bias 7
    expected = 70 + 45 + 36 + 27 + 21 + 7
    model = RecurrentLM(cell, 7, embedding=3, hidden=5, layers=2)
    assert count_params(model) == expected == official_param_count(cell, 7, embedding=3, hidden=5, layers=2)
    assert model.decoder.weight is model.embedding.weight


def test_forward_shapes_hidden_outputs_and_loss():
    torch.manual_seed(0)
    model = RecurrentLM(ELMAN, 11, embedding=4, hidden=6, layers=3)
    tokens = torch.randint(0, 11, (2, 5))
    logits = model(tokens)
    assert logits.shape == (2, 5, 11)
    hidden = model.hidden_outputs(torch.randn(5, 2, 4))
    assert [h.shape for h in hidden] == [(5, 2, 6), (5, 2, 6), (5, 2, 4)]
    # zero-initialised decoder bias and U(-0.1, 0.1) tied weights: near-uniform predictions
    loss = LanguageModel().loss(logits, torch.randint(0, 11, (2, 5)))
    assert abs(loss.item() - math.log(11)) < 0.05


def test_elman_step_matches_the_formula():
    torch.manual_seed(1)
    model = RecurrentLM(ELMAN, 5, embedding=2, hidden=3, layers=1)
    layer = model.layers[0]
    x = torch.randn(4, 1, 2)
    out = layer(x)
    lin = layer.cell.linears["f"]
    h = torch.zeros(1, 2)
    for t in range(4):
        h = torch.tanh(lin.parts[0](x[t]) + lin.parts[1](h))  # inputs in recepie order: x, h_prev_0
        assert torch.allclose(out[t], h)


def test_vocabulary_and_windows():
    vocab = build_vocabulary([["a b", "b c"], ["d"]])
    assert vocab == {"a": 0, "b": 1, "<eos>": 2, "c": 3, "d": 4}
    assert window_starts(1000, 3, 4, 71)[:2] == window_starts(1000, 3, 2, 71)


def lm_context(model, tokens, targets):
    from nasproxy_bench.benchmark import Dataset, Direction, Metric, TaskKind
    from nasproxy_bench.inputs import Batch
    from nasproxy_bench.proxies.base import ProxyContext
    from tests.test_proxies import NoCells

    ds = Dataset("toy_lm", (tokens.shape[1],), 11, TaskKind.SEQUENCE, (Metric("m", Direction.LOWER),), "m", LanguageModel())
    return ProxyContext(NoCells("."), "a", ds, model, [Batch(tokens, targets, "toy", False, 0)], 0, torch.device("cpu"),
                        frozenset({"grad_norm"}))


def test_gradient_proxies_score_every_cell_weight_and_jacob_cov_reads_the_embedding():
    from nasproxy_bench.registry import get_proxy
    from nasproxy_bench.runner import evaluate
    from nasproxy_bench.store import STATUS_OK, STATUS_UNSUPPORTED

    torch.manual_seed(0)
    model = RecurrentLM(ELMAN, 11, embedding=4, hidden=6, layers=2)
    tokens, targets = torch.randint(0, 11, (3, 5)), torch.randint(0, 11, (3, 5))
    ctx = lm_context(model, tokens, targets)
    record = evaluate(get_proxy("grad_norm"), ctx)
    assert record.status == STATUS_OK
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(tokens).reshape(-1, 11), targets.reshape(-1)).backward()
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 5  # 2 per layer's linear node (x and h_prev_0) + the tied decoder
    assert record.score == pytest.approx(sum(float(m.weight.grad.norm()) for m in linears), rel=1e-5)
    assert evaluate(get_proxy("synflow"), ctx).status == STATUS_OK
    # jacob_cov: Jacobian of the summed logits w.r.t. the embedding output, by hand
    embedded = model.embedding(tokens).detach().requires_grad_(True)
    logits = model.decoder(model.hidden_outputs(embedded.transpose(0, 1))[-1].transpose(0, 1))
    (jac,) = torch.autograd.grad(logits.sum(), embedded)
    corr = np.corrcoef(jac.reshape(3, -1).double().numpy())
    eig = np.linalg.eigvalsh(corr)
    expected = -np.sum(np.log(eig + 1e-5) + 1.0 / (eig + 1e-5))
    jacobian = evaluate(get_proxy("jacob_cov"), ctx)
    assert jacobian.status == STATUS_OK and jacobian.score == pytest.approx(expected, rel=1e-6)
    assert evaluate(get_proxy("epe_nas"), ctx).status == STATUS_UNSUPPORTED  # no per-sample classes in a LM


def test_token_network_without_an_embedding_hook_is_unsupported_for_jacobians():
    from nasproxy_bench.registry import get_proxy
    from nasproxy_bench.runner import evaluate
    from nasproxy_bench.store import STATUS_UNSUPPORTED

    class Wrapped(torch.nn.Module):  # same LM, but forward only: no embed/forward_embedded
        def __init__(self) -> None:
            super().__init__()
            self.lm = RecurrentLM(ELMAN, 11, embedding=4, hidden=6, layers=2)

        def forward(self, tokens):
            return self.lm(tokens)

    tokens = torch.randint(0, 11, (3, 5))
    record = evaluate(get_proxy("jacob_cov"), lm_context(Wrapped(), tokens, tokens))
    assert record.status == STATUS_UNSUPPORTED and "no embedding hook" in record.message

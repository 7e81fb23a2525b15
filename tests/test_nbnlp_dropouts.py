"""NAS-Bench-NLP's official training dropouts as a network variant, and the GenNAS RNN task that trains it."""

from __future__ import annotations

import copy

import pytest
import torch

from nasproxy_bench.adapters.nbnlp.arch import Recepie
from nasproxy_bench.adapters.nbnlp.network import NO_DROPOUTS, OFFICIAL_DROPOUTS, Dropouts, RecurrentLM, locked_dropout
from nasproxy_bench.benchmark import Dataset, Metric, TaskKind
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.gennas.proxies import rnn_task_spec, score_rnn_task
from nasproxy_bench.gennas.rnn import rnn_regression_score
from nasproxy_bench.gennas.rnn_task import parse_rnn_task
from nasproxy_bench.gennas.task import TaskError
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_UNSUPPORTED
from tests.test_gennas_rnn import tiny_doc

# two linear nodes: n0 reads x and h_prev_0 (one input weight, one recurrent), n1 reads n0 only (recurrent side)
CELL = "n0=linear(x,h_prev_0);n1=linear(n0);n2=activation_tanh(n1);h_new_0=activation_tanh(n2)"


def lm(dropouts: Dropouts = NO_DROPOUTS) -> RecurrentLM:
    torch.manual_seed(0)
    return RecurrentLM(Recepie.parse(CELL), 20, embedding=8, hidden=12, layers=2, dropouts=dropouts)


def test_locked_dropout_keeps_one_mask_per_sequence_over_time():
    torch.manual_seed(0)
    out = locked_dropout(torch.ones(5, 64, 10), 0.25, training=True)
    assert torch.equal(out.unique(), torch.tensor([0.0, 1.0 / 0.75]))
    assert torch.equal(out, out[:1].expand_as(out))  # the same mask at every time step
    assert 0.15 < (out == 0).float().mean().item() < 0.35
    x = torch.randn(3, 2, 4)
    assert locked_dropout(x, 0.25, training=False) is x and locked_dropout(x, 0.0, training=True) is x


def test_eval_mode_is_the_plain_network_and_train_mode_is_random():
    plain, noisy = lm().eval(), lm(OFFICIAL_DROPOUTS).eval()
    assert plain.state_dict().keys() == noisy.state_dict().keys()
    assert all(torch.equal(v, noisy.state_dict()[k]) for k, v in plain.state_dict().items())  # same init draws
    x = torch.randn(6, 3, 8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(plain.hidden_outputs(x)[-1], noisy.hidden_outputs(x)[-1])
    noisy.train()
    torch.manual_seed(1)
    a = noisy.hidden_outputs(x)[-1]
    torch.manual_seed(1)
    b = noisy.hidden_outputs(x)[-1]
    c = noisy.hidden_outputs(x)[-1]
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_which_weights_are_dropped_follows_the_input_names():
    node = lm(OFFICIAL_DROPOUTS).layers[0].cell.linears
    assert node["n0"].dropped == (False, True) and node["n1"].dropped == (True,)


def test_the_official_weight_drop_leaves_recurrent_weights_untrained():
    task = parse_rnn_task(tiny_doc())
    trained = {}
    for name, dropouts in (("official", OFFICIAL_DROPOUTS), ("trainable", Dropouts(0.25, 0.1, 0.1, True))):
        net = lm(dropouts)
        before = copy.deepcopy(net.state_dict())
        rnn_regression_score(net, task, seed=0)
        trained[name] = {k for k, v in net.state_dict().items() if not torch.equal(v, before[k])}
    recurrent = {"layers.0.cell.linears.n0.parts.1.weight", "layers.0.cell.linears.n1.parts.0.weight",
                 "layers.1.cell.linears.n0.parts.1.weight", "layers.1.cell.linears.n1.parts.0.weight"}
    assert not recurrent & trained["official"]
    assert recurrent <= trained["trainable"]
    assert "layers.0.cell.linears.n0.parts.0.weight" in trained["official"]  # the x weight trains
    assert "layers.0.cell.linears.n1.parts.0.bias" in trained["official"]  # biases are never dropped


def test_scores_are_deterministic_per_seed_and_leave_the_global_rng_alone():
    task = parse_rnn_task(tiny_doc())
    nets = [lm(OFFICIAL_DROPOUTS) for _ in range(3)]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = rnn_regression_score(nets[0], task, seed=4)
    assert torch.equal(torch.get_rng_state(), state)  # the masks came from a forked generator
    torch.manual_seed(999)  # another caller state: the same score
    b = rnn_regression_score(nets[1], task, seed=4)
    assert a == b and a != rnn_regression_score(nets[2], task, seed=5)
    assert a != rnn_regression_score(lm(), task, seed=4)


class _Space:
    """What score_rnn_task needs from a benchmark: build_variant (NB-NLP's rules on a tiny model)."""

    name = "tiny_nlp"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def build_variant(self, arch, dataset, *, channels=None, cell_bn="standard", dropouts="none"):
        self.asked.append(dropouts)
        return RecurrentLM(Recepie.parse(CELL), 20, embedding=8, hidden=12, layers=2,
                           dropouts=OFFICIAL_DROPOUTS if dropouts == "official" else Dropouts())


def test_a_dropouts_task_trains_the_variant_with_its_own_hash():
    plain, none = parse_rnn_task(tiny_doc()), parse_rnn_task(tiny_doc(network={"dropouts": "none"}))
    official = parse_rnn_task(tiny_doc(network={"dropouts": "official"}))
    assert none.hash == plain.hash and official.hash != plain.hash and official.network_dropouts == "official"
    dataset = Dataset("ptb", (70,), 20, TaskKind.SEQUENCE, (Metric("ppl", "lower"),), "ppl")
    space = _Space()
    ctx = ProxyContext(space, "a", dataset, lm(), [], 2, torch.device("cpu"))
    value = score_rnn_task(official, ctx)
    assert space.asked == ["official"]
    torch.manual_seed(2 * 1_000_003)  # initialised as ProxyContext.model_variant does (run seed 2, repeat 0)
    expected = rnn_regression_score(RecurrentLM(Recepie.parse(CELL), 20, embedding=8, hidden=12, layers=2,
                                                dropouts=OFFICIAL_DROPOUTS), official, 2)
    assert value == expected
    assert score_rnn_task(plain, ctx) == rnn_regression_score(lm(), plain, 2) and space.asked == ["official"]


def test_spaces_without_the_variant_say_unsupported():
    from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark

    bench = NB201Benchmark.__new__(NB201Benchmark)
    bench.data_root = None
    with pytest.raises(UnsupportedNetwork, match="dropouts"):
        bench.build_variant("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|", "cifar10", dropouts="official")
    official = parse_rnn_task(tiny_doc(network={"dropouts": "official"}))
    dataset = Dataset("ptb", (70,), 20, TaskKind.SEQUENCE, (Metric("ppl", "lower"),), "ppl")
    record = evaluate(rnn_task_spec(official, "rnn"), ProxyContext(bench, "a", dataset, lm(), [], 0, torch.device("cpu")))
    assert record.status == STATUS_UNSUPPORTED and "dropouts" in record.message


def test_network_field_errors_are_one_line():
    for network, message in (({"dropouts": "heavy"}, "expected one of none, official"),
                             ({}, "missing field 'dropouts'"),
                             ({"dropouts": "none", "width": 3}, "unknown field 'width'")):
        with pytest.raises(TaskError, match=message) as info:
            parse_rnn_task(tiny_doc(network=network))
        assert "\n" not in str(info.value)


def test_one_weight_dropout_draw_serves_every_time_step_of_a_sequence():
    layer = lm(OFFICIAL_DROPOUTS).layers[0].train()
    x = torch.randn(5, 3, 8, generator=torch.Generator().manual_seed(2))
    torch.manual_seed(7)
    out = layer(x)
    torch.manual_seed(7)  # the same draw, then a manual unroll that reuses it at every step
    weights = layer.cell.sequence_weights()
    assert weights["n0"][0] is layer.cell.linears["n0"].parts[0].weight  # x weights are not dropped
    dropped = weights["n0"][1]
    kept = dropped[dropped != 0] / layer.cell.linears["n0"].parts[1].weight[dropped != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.9)) and (dropped == 0).any()
    hidden, steps = (torch.zeros(3, 12),), []
    for t in range(5):
        hidden = layer.cell(x[t], hidden, weights)
        steps.append(hidden[0])
    assert torch.equal(out, torch.stack(steps))
    layer.eval()
    assert layer.cell.sequence_weights() == {"n0": None, "n1": None}

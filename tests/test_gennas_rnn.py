"""GenNAS regression on recurrent networks: signal maps, the RNN task document, training, registry."""

from __future__ import annotations

import copy
import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasproxy_bench.adapters.nbnlp.arch import Recepie
from nasproxy_bench.adapters.nbnlp.network import RecurrentLM
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.gennas import signals
from nasproxy_bench.gennas.proxies import PRESET_HASHES, RNN_VERSION, spec_for
from nasproxy_bench.gennas.rnn import RnnRegressor, rnn_base_maps, rnn_regression_score, sequence_tensor
from nasproxy_bench.gennas.rnn_task import RNN_PRESETS, load_rnn_preset, parse_rnn_task, rnn_task_to_doc
from nasproxy_bench.gennas.task import Base, TaskError
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.tasks import TaskKind

TANH_RNN = "n0=linear(x,h_prev_0);h_new_0=activation_tanh(n0)"


def tiny_lm(cell: str = TANH_RNN) -> RecurrentLM:
    torch.manual_seed(0)
    return RecurrentLM(Recepie.parse(cell), 20, embedding=8, hidden=12, layers=2)


def tiny_doc(**changes) -> dict:
    doc = {"schema": "gennas-rnn-task", "version": 1, "name": "tiny", "length": 4, "batch": 3, "dimension": 6,
           "training": {"iterations": 30, "lr": 0.01, "weight_decay": 0.0},
           "input": [{"base": "dot", "channels": 1, "fraction": 1.0}],
           "target": [{"base": "sin1d", "channels": 1, "band": "M"}, {"base": "sin2d", "channels": 1, "band": "M"}]}
    return doc | changes


def test_dot_maps_are_rectangular_with_the_stated_density():
    gen = torch.Generator().manual_seed(0)
    full = rnn_base_maps(Base("dot", 1, fraction=1.0), 5, 8, 64, gen)
    assert full.shape == (5, 8, 64) and set(full.unique().tolist()) == {-1.0, 1.0}
    half = rnn_base_maps(Base("dot", 1, level=2.0, fraction=0.25), 5, 8, 64, gen)
    assert ((half != 0).sum(dim=(1, 2)) == int(0.25 * 8 * 64)).all()  # 128 pixels of each 8 x 64 map
    assert set(half.unique().tolist()) == {-2.0, 0.0, 2.0}  # level multiplies
    smooth = rnn_base_maps(Base("gdot", 1, fraction=0.1), 4, 8, 64, gen)
    assert torch.allclose(smooth.abs().amax(dim=(1, 2)), torch.ones(4))  # GDot rescaled to [-1, 1]


def test_square_default_dot_is_unchanged_by_the_width_option():
    a = signals.dot(3, 0.5, torch.Generator().manual_seed(4))
    b = signals.dot(3, 0.5, torch.Generator().manual_seed(4), width=8)
    assert torch.equal(a, b) and a.shape == (3, 8, 8)


def test_sin_maps_are_cropped_from_the_square_grid():
    # sin(2 pi f x + 0) along the d axis, f = 0.25: period 4 pixels over the 64 columns, same in every row
    base = Base("sin1d", 1, frequencies=(0.25,), phase=0.0, axis="x")
    maps = rnn_base_maps(base, 2, 8, 64, torch.Generator().manual_seed(0))
    expected = torch.sin(2 * math.pi * 0.25 * torch.arange(64, dtype=torch.float64)).float().expand(8, 64)
    assert maps.shape == (2, 8, 64) and torch.allclose(maps[0], expected, atol=1e-6)
    along_l = rnn_base_maps(Base("sin1d", 1, frequencies=(0.125,), phase=0.0, axis="y"), 1, 8, 64, torch.Generator())
    assert torch.allclose(along_l[0, :, 5], torch.sin(2 * math.pi * 0.125 * torch.arange(8.0)), atol=1e-6)


def test_sequence_tensor_sums_bases_and_stacks_along_the_batch():
    task = parse_rnn_task(tiny_doc())
    tensor = sequence_tensor(task.target, task, torch.Generator().manual_seed(3))
    gen = torch.Generator().manual_seed(3)
    parts = [rnn_base_maps(b, 3, 4, 6, gen) for b in task.target]
    assert tensor.shape == (4, 3, 6)  # l x b x d
    assert torch.allclose(tensor, (parts[0] + parts[1]).permute(1, 0, 2))
    assert not torch.allclose(tensor[:, 0], tensor[:, 1])  # local: an independent map per sequence


@pytest.mark.parametrize("change, field", [
    ({"input": [{"base": "dot", "channels": 2}]}, "input[0].channels"),
    ({"input": [{"base": "dot", "channels": 1, "local": False}]}, "input[0].local"),
    ({"target": [{"base": "resize", "channels": 1}]}, "target[0].base"),
    ({"target": []}, "target"),
    ({"length": 0}, "length"),
    ({"training": {"momentum": 0.9}}, "training"),
    ({"schema": "gennas-task"}, "schema"),
])
def test_bad_rnn_task_documents_name_the_field(change, field):
    with pytest.raises(TaskError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_rnn_task(tiny_doc(**change))


def test_rnn_presets_follow_the_public_configs_and_are_pinned():
    single, combo = (load_rnn_preset(n) for n in RNN_PRESETS)
    assert (single.length, single.batch, single.dimension) == (8, 16, 64)
    assert [b.kind for b in single.input] == ["dot"] == [b.kind for b in single.target]
    assert [(b.kind, b.band) for b in combo.target] == [("sin1d", "M"), ("sin2d", "M")]
    assert single.training.iterations == 100 and single.training.lr == 0.001  # the public code's first commit
    for name in RNN_PRESETS:
        task = load_rnn_preset(name)
        assert task.hash == PRESET_HASHES[name]
        assert parse_rnn_task(json.loads(json.dumps(rnn_task_to_doc(task)))) == task


def test_zero_iterations_score_is_the_hand_computed_mse():
    task = parse_rnn_task(tiny_doc(training={"iterations": 0}))
    net = tiny_lm()
    reg = RnnRegressor(copy.deepcopy(net), task, seed=1)
    with torch.no_grad():
        out = reg.decoder(net.hidden_outputs(reg.encoder(reg.inputs))[-1])
        expected = float(((out - reg.targets) ** 2).mean())
    assert reg.decoder.weight.abs().max() <= 0.1 and torch.count_nonzero(reg.decoder.bias) == 0
    assert rnn_regression_score(copy.deepcopy(net), task, seed=1) == pytest.approx(expected, rel=1e-6)


def test_training_lowers_the_loss_and_is_deterministic():
    task = parse_rnn_task(tiny_doc())
    untrained = rnn_regression_score(tiny_lm(), parse_rnn_task(tiny_doc(training={"iterations": 0})), seed=0)
    first, second = rnn_regression_score(tiny_lm(), task, seed=0), rnn_regression_score(tiny_lm(), task, seed=0)
    assert first == second
    assert first < 0.7 * untrained


def test_a_cell_that_ignores_its_input_learns_only_the_target_mean():
    # h_new = h_prev * linear(x, h_prev) stays 0 from zero states: the decoder sees zeros and only its
    # bias can learn, so the score cannot drop below the per-feature variance of the target
    task = parse_rnn_task(tiny_doc(training={"iterations": 200, "lr": 0.05, "weight_decay": 0.0}))
    dead = "n0=linear(x,h_prev_0);h_new_0=elementwise_prod(h_prev_0,n0)"
    reg = RnnRegressor(tiny_lm(dead), task, seed=0)
    reg.train()
    floor = float(F.mse_loss(reg.targets, reg.targets.mean(dim=(0, 1), keepdim=True).expand_as(reg.targets)))
    assert reg.evaluate() == pytest.approx(floor, rel=1e-3)


def test_registered_rnn_presets_and_task_files(tmp_path):
    spec = get_proxy("gennas_rnn_single")
    assert spec.tasks == frozenset({TaskKind.SEQUENCE}) and not spec.needs_data and spec.opt_in
    path = tmp_path / "rnn.json"
    path.write_text(json.dumps(tiny_doc()))
    from_file = spec_for(f"gennas:{path}")
    assert from_file.name.startswith("gennas:") and from_file.tasks == frozenset({TaskKind.SEQUENCE})
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(TaskError, match="not valid JSON"):
        spec_for(f"gennas:{tmp_path / 'broken.json'}")


def test_a_network_without_recurrent_layers_is_unsupported():
    with pytest.raises(UnsupportedNetwork):
        RnnRegressor(nn.Linear(3, 3), parse_rnn_task(tiny_doc()), seed=0)


def test_table2_reads_the_rnn_presets_on_a_recurrent_space(tmp_path):
    import pandas as pd

    from nasproxy_bench.gennas.tables import table2
    from nasproxy_bench.store import Record, ResultStore, RunKey

    archs = [f"cell{i}" for i in range(6)]
    truth = pd.Series([5.0, 5.2, 5.1, 5.6, 5.9, 5.3], index=archs)  # log-perplexity, lower is better
    with ResultStore(tmp_path / "s.h5") as store:
        key = RunKey("nbnlp", "ptb", "gennas_rnn_combo", RNN_VERSION, 0, 16, 0)
        for arch, loss in zip(archs, [0.90, 0.92, 0.91, 0.95, 0.99, 0.93], strict=True):  # same order as truth
            store.add(key, arch, Record(loss, 1.0), {"device": "cpu"})
    text = table2(ResultStore(tmp_path / "s.h5"), lambda bench, dataset: -truth)  # signed: higher is better
    row = next(line for line in text.splitlines() if line.startswith("| nbnlp | ptb |"))
    assert row.startswith("| nbnlp | ptb | not run | 0.73 | 1.00 (n=6) | 0.74 |")  # n < 10: no interval
    # every row of the paper's Table 2 is listed, run or not (NDS ImageNet: the 32 px input variant)
    assert "| nds_darts | imagenet-32 | not run | 0.61 | not run | 0.75 | not run | 0.70 |" in text
    assert "| nds_resnext-b | cifar10 | not run | 0.26 | not run | 0.30 | not run | 0.53 |" in text

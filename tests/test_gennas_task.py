"""GenNAS task documents: presets, canonical form and hash, validation errors."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from nasproxy_bench.gennas.proxies import PRESET_HASHES, spec_for, task_proxy_name
from nasproxy_bench.gennas.targets import stage_targets
from nasproxy_bench.gennas.task import PRESETS, TaskError, load_preset, load_task, parse_task, task_to_doc
from nasproxy_bench.registry import get_proxy


def combo_doc() -> dict:
    return task_to_doc(load_preset("gennas_combo"))


def test_presets_parse_and_match_the_paper():
    single = load_preset("gennas_single")
    assert single.used_stages == [2]
    (tensor,) = single.stages[2]
    assert [(b.kind, b.fraction, b.channels) for b in tensor] == [("dot", 1.0, 64)]
    combo = load_preset("gennas_combo")
    kinds = [[(t[0].kind, t[0].band) for t in stage] for stage in combo.stages]
    assert kinds == [
        [("sin1d", "H"), ("sin2d", "H"), ("dot", None)],
        [("sin1d", "H"), ("sin2d", "M"), ("resize", None)],
        [("sin1d", "H"), ("dot", None), ("resize", None)],
    ]
    assert combo.eval_weights == (0.25, 0.5, 1.0)  # 1 / 2^(N - i)
    assert (combo.training.iterations, combo.training.lr, combo.training.momentum) == (100, 0.1, 0.9)
    for name in ("single", "combo"):  # the *_w16 twins: the same task on the 16-channel network
        twin, preset = load_preset(f"gennas_{name}_w16"), load_preset(f"gennas_{name}")
        assert twin.network_channels == 16 and preset.network_channels is None
        assert twin.stages == preset.stages and twin.training == preset.training


def test_preset_hashes_are_pinned():
    # A preset edit changes stored results: bump proxies.VERSION (RNN_VERSION for an RNN preset) and update PRESET_HASHES together.
    for name in PRESETS:
        assert load_preset(name).hash == PRESET_HASHES[name]


def test_round_trip_and_hash_ignores_name_and_provenance():
    task = parse_task(combo_doc())
    again = parse_task(json.loads(json.dumps(task.to_doc())))
    assert again == task and again.hash == task.hash
    renamed = combo_doc() | {"name": "other", "description": "x", "provenance": {"by": "test"}}
    assert parse_task(renamed).hash == task.hash
    changed = combo_doc()
    changed["noise"] = {"type": "gaussian", "level": 0.1}
    assert parse_task(changed).hash != task.hash
    narrow = parse_task(combo_doc() | {"network": {"channels": 16}})
    assert narrow.network_channels == 16 and task.network_channels is None
    assert narrow.hash != task.hash and parse_task(json.loads(json.dumps(narrow.to_doc()))) == narrow
    assert "network" not in task.to_doc()  # a task without it keeps the hash it had before the field existed


@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: d.update(version=2), "task.version"),
    (lambda d: d.update(schema="other"), "task.schema"),
    (lambda d: d.pop("stages"), "missing field 'stages'"),
    (lambda d: d.update(colour=1), "unknown field 'colour'"),
    (lambda d: d["noise"].update(type="pink"), "task.noise.type"),
    (lambda d: d["training"].update(lr=-1), "task.training.lr"),
    (lambda d: d["loss_weights"].update(eval=[1, 1]), "task.loss_weights.eval"),
    (lambda d: d["stages"].pop(), "task.stages"),
    (lambda d: d["stages"][0]["tensors"][0][0].update(base="wave"), "task.stages[0].tensors[0][0].base"),
    (lambda d: d["stages"][0]["tensors"][0][0].update(channels=0), "task.stages[0].tensors[0][0].channels"),
    (lambda d: d["stages"][0]["tensors"][0][0].update(band="X"), "task.stages[0].tensors[0][0].band"),
    (lambda d: d["stages"][0]["tensors"][0][0].update(frequencies=[0.1]), "exactly one of 'band' or 'frequencies'"),
    (lambda d: d["stages"][0]["tensors"][0][0].update(axis="z"), "task.stages[0].tensors[0][0].axis"),
    (lambda d: d["stages"][0]["tensors"][2][0].update(fraction=0), "task.stages[0].tensors[2][0].fraction"),
    (lambda d: d["stages"][0]["tensors"][2][0].update(channels=32), "equal channel totals"),
    (lambda d: d["stages"][1]["tensors"][2][0].update(local=True), "unknown field 'local'"),  # resize is per image
    (lambda d: [s.update(tensors=[]) for s in d["stages"]], "every stage is empty"),
    (lambda d: d["stages"][0]["tensors"].append([]), "task.stages[0].tensors[3]"),
    (lambda d: d.update(network={"channels": 0}), "task.network.channels"),
    (lambda d: d.update(network={"channels": "16"}), "task.network.channels"),
    (lambda d: d.update(network={"width": 16}), "unknown field 'width'"),
    (lambda d: d.update(network=16), "task.network"),
])
def test_validation_errors_name_the_field(edit, field):
    doc = copy.deepcopy(combo_doc())
    edit(doc)
    with pytest.raises(TaskError) as info:
        parse_task(doc)
    message = str(info.value)
    assert field in message and "\n" not in message


def test_file_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(TaskError, match="not valid JSON"):
        load_task(bad)
    with pytest.raises(TaskError, match="cannot read"):
        load_task(tmp_path / "missing.json")


def test_task_file_proxy_is_named_by_hash(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(combo_doc() | {"name": "mine"}))
    spec = get_proxy(f"gennas:{path}")
    assert spec.name == task_proxy_name(load_task(path)) == f"gennas:{PRESET_HASHES['gennas_combo'][:16]}"
    assert spec.direction.value == "lower" and spec.opt_in and spec.family == "gennas"
    assert spec_for("gennas:gennas_single").name == "gennas_single"
    assert get_proxy("gennas_combo").opt_in


def test_targets_shapes_global_and_local():
    task = parse_task(combo_doc())
    images = torch.randn(4, 3, 32, 32)
    targets = stage_targets(task, images, torch.Generator().manual_seed(0))
    assert [tuple(t.shape) for t in targets] == [(4, 64, 8, 8)] * 3
    doc = combo_doc()
    doc["stages"][0]["tensors"] = [[{"base": "dot", "channels": 16, "local": False},
                                    {"base": "sin1d", "channels": 48, "band": "M", "local": True}]]
    target = stage_targets(parse_task(doc), images, torch.Generator().manual_seed(0))[0]
    assert target.shape == (4, 64, 8, 8)
    assert torch.equal(target[0, :16], target[3, :16])  # global: same for every image
    assert not torch.equal(target[0, 16:], target[3, 16:])  # local: per image
    again = stage_targets(parse_task(doc), images, torch.Generator().manual_seed(0))[0]
    assert torch.equal(target, again)

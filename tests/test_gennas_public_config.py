"""Public GenNAS code configs (CONF_* dicts) -> our task documents."""

from __future__ import annotations

import pytest

from nasproxy_bench.gennas.public_config import task_from_public_config
from nasproxy_bench.gennas.signals import BANDS
from nasproxy_bench.gennas.task import TaskError, load_preset


def combo_shaped() -> dict:
    """A config in the public code's format that describes GenNAS-combo (bands as in its CONF_COMBO)."""
    def sin(band):
        return {"level": 1.0, "range": list(BANDS[band]), "local": True}
    dot = {"level": 1.0, "partial": 1.0, "local": True}
    return {"batchsize": 16, "noise": {"type": "gaussian", "noise_level": 0.0},
            "last_channel_l0": 1.0, "last_channel_l1": 1.0, "last_channel_l2": 1.0,
            "feature": {"0": {"sin1d": sin("H"), "sin2d": sin("H"), "dot": dot, "dot_gaussian": None, "resize": None},
                        "1": {"sin1d": sin("H"), "sin2d": sin("M"), "dot": None, "dot_gaussian": None, "resize": {"level": 1.0}},
                        "2": {"sin1d": sin("H"), "sin2d": None, "dot": dot, "dot_gaussian": None, "resize": {"level": 1.0}}}}


def test_the_combo_config_converts_to_the_combo_preset_up_to_the_order_of_summed_tensors():
    task, preset = task_from_public_config(combo_shaped()), load_preset("gennas_combo")
    assert task.noise_type == "none" and task.train_weights == preset.train_weights == (0.25, 0.5, 1.0)
    for ours, theirs in zip(task.stages, preset.stages, strict=True):
        assert sorted(map(repr, ours)) == sorted(map(repr, theirs))
    # the public code adds resize before dot: S3 is (sin1d, resize, dot)
    assert [t[0].kind for t in task.stages[2]] == ["sin1d", "resize", "dot"]


def test_channels_levels_noise_gaussian_dots_and_empty_stages():
    config = combo_shaped()
    config.update(noise={"type": "uniform", "noise_level": 0.1}, last_channel_l1=0.75, last_channel_l2=0.25)
    config["feature"]["1"] = {"sin1d": None, "sin2d": {"level": 2.5, "range": [0.3, 0.31], "local": False},
                              "dot": None, "dot_gaussian": {"level": 1.1, "partial": 0.578125, "local": True}, "resize": None}
    config["feature"]["2"] = {"sin1d": None, "sin2d": None, "dot": None, "dot_gaussian": None, "resize": None}
    task = task_from_public_config(config)
    assert (task.noise_type, task.noise_level) == ("uniform", 0.1)
    (sin2d,), (gdot,) = task.stages[1]
    assert (sin2d.kind, sin2d.channels, sin2d.level, sin2d.local, sin2d.frequencies) == ("sin2d", 48, 2.5, False, (0.3, 0.31))
    assert (gdot.kind, gdot.channels, gdot.fraction) == ("gdot", 48, 0.578125)
    (zero,), = task.stages[2]  # a stage without bases is regressed to zeros, as in the public code
    assert (zero.kind, zero.channels) == ("zero", 16)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: c.pop("feature"), "expected an object with 'feature'"),
    (lambda c: c.update(noise={"type": "pink", "noise_level": 0.1}), "noise.type"),
    (lambda c: c["feature"]["0"]["sin1d"].pop("range"), "feature.0.sin1d.range"),
    (lambda c: c.pop("last_channel_l2"), "last_channel_l2"),
    (lambda c: c["feature"].pop("1"), "feature.1: missing"),
])
def test_bad_configs_give_one_line_errors(edit, message):
    config = combo_shaped()
    edit(config)
    with pytest.raises(TaskError) as info:
        task_from_public_config(config)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_shipped_searched_task_is_the_public_codes_nb101_task_at_16_channels():
    task = load_preset("gennas_search_n")
    assert [task.stage_channels(i) for i in range(3)] == [64, 48, 16]  # last_channel_l* 1.0 / 0.75 / 0.25 of 64
    assert (task.noise_type, task.noise_level, task.network_channels) == ("uniform", 0.1, 16)
    assert [[t[0].kind for t in stage] for stage in task.stages] == [["sin2d"], ["sin1d", "sin2d", "resize", "gdot"],
                                                                      ["sin1d", "sin2d", "resize", "gdot"]]
    assert all(not t[0].local for t in task.stages[2] if t[0].kind != "resize")  # S3 bases are global
    assert "CONF_NB101" in task.provenance["source"]

"""Task documents from the public GenNAS code's task configs (the ``CONF_*`` dicts of its ``configs.py``).

The public code (leeyeehoo/GenNAS, ``builder_task.py::CVTask._build_target``) builds stage i's
target as a zero tensor of ``int(last_channel_l<i> * last_channels)`` channels (``last_channels``
= 64 by default) to which it adds, in this order, each present base over all of the stage's
channels times its ``level``: ``sin1d``, ``sin2d`` (frequencies drawn from ``range``), ``resize``,
``dot`` and ``dot_gaussian`` (``partial`` = the fraction of the 8x8 pixels set). A stage with no
base is still regressed, to zeros. Input noise is ``noise.type`` (uniform / gaussian) with
``noise.noise_level``. In our schema each present base is one tensor of the stage and the
tensors are summed; an empty stage becomes one ``zero`` base; a frequency list equal to one of
our named bands is written as that band, so ``CONF_COMBO`` converts to the ``gennas_combo`` preset.
"""

from __future__ import annotations

from typing import Any

from nasproxy_bench.gennas.signals import BANDS
from nasproxy_bench.gennas.task import DEFAULT_WEIGHTS, N_STAGES, SCHEMA, VERSION, Task, TaskError, parse_task

# public-code base key -> our base kind, in the order the public code adds them
_KINDS = (("sin1d", "sin1d"), ("sin2d", "sin2d"), ("resize", "resize"), ("dot", "dot"), ("dot_gaussian", "gdot"))
LAST_CHANNELS = 64  # do_sample.py / do_search.py --last_channels default


def _base_doc(key: str, kind: str, spec: dict[str, Any], channels: int, where: str) -> dict[str, Any]:
    if not isinstance(spec, dict) or "level" not in spec:
        raise TaskError(f"public GenNAS config: {where}.{key}: expected null or an object with 'level'")
    doc: dict[str, Any] = {"base": kind, "channels": channels, "level": spec["level"]}
    if kind != "resize":
        doc["local"] = spec.get("local", True)
    if kind in ("sin1d", "sin2d"):
        freqs = spec.get("range")
        if not isinstance(freqs, list) or not freqs:
            raise TaskError(f"public GenNAS config: {where}.{key}.range: expected a non-empty list of frequencies")
        band = next((name for name, values in BANDS.items() if list(values) == [round(f, 6) for f in freqs]), None)
        doc.update({"band": band} if band else {"frequencies": list(freqs)})
    if kind in ("dot", "gdot"):
        doc["fraction"] = spec.get("partial")
    return doc


def task_from_public_config(config: dict[str, Any], *, name: str = "", description: str = "",
                            provenance: dict[str, Any] | None = None, last_channels: int = LAST_CHANNELS) -> Task:
    """Our task for a public-code CV config dict; problems raise a one-line ``TaskError`` naming the field."""
    if not isinstance(config, dict) or "feature" not in config:
        raise TaskError("public GenNAS config: expected an object with 'feature' (a CONF_* dict of configs.py)")
    noise = config.get("noise") or {"type": "gaussian", "noise_level": 0.0}
    level = noise.get("noise_level", 0.0)
    if noise.get("type") not in ("uniform", "gaussian"):
        raise TaskError(f"public GenNAS config: noise.type: expected uniform or gaussian, got {noise.get('type')!r}")
    stages = []
    for i in range(N_STAGES):
        where = f"feature.{i}"
        features = config["feature"].get(str(i))
        if not isinstance(features, dict):
            raise TaskError(f"public GenNAS config: {where}: missing")
        ratio = config.get(f"last_channel_l{i}")
        if not isinstance(ratio, (int, float)):
            raise TaskError(f"public GenNAS config: last_channel_l{i}: expected a number")
        channels = int(ratio * last_channels)
        bases = [_base_doc(key, kind, features[key], channels, where) for key, kind in _KINDS if features.get(key) is not None]
        stages.append({"tensors": [[b] for b in bases] or [[{"base": "zero", "channels": channels}]]})
    doc = {
        "schema": SCHEMA, "version": VERSION, "name": name, "description": description,
        "noise": {"type": noise["type"], "level": level} if level else {"type": "none", "level": 0.0},
        "loss_weights": {"train": list(config.get("train_weights", DEFAULT_WEIGHTS)),
                         "eval": list(config.get("eval_weights", DEFAULT_WEIGHTS))},
        "stages": stages,
    }
    if provenance:
        doc["provenance"] = provenance
    return parse_task(doc, source="public GenNAS config")

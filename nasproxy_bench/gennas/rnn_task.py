"""A GenNAS task for recurrent networks: a small versioned JSON document (schema ``gennas-rnn-task``).

Document (schema version 1)::

    {"schema": "gennas-rnn-task", "version": 1, "name": "...", "description": "...",
     "length": 8, "batch": 16, "dimension": 64,
     "noise": {"type": "none" | "gaussian" | "uniform", "level": 0.0},
     "training": {"iterations": 100, "lr": 0.1, "weight_decay": 1.2e-6},   # Adam
     "input": [BASE, ...], "target": [BASE, ...],
     "network": {"dropouts": "official"},                                  # optional, see below
     "provenance": {...}}

The regression is many-to-many (paper Sec. 3.1.1, Fig. 2b): an input tensor l x b x d goes
through a linear encoder (d -> the network's input width), the recurrent layers and a linear
decoder (output width -> d); the loss is the MSE to a target tensor l x b x d. Input and
target are each the sum of their bases; every base is one l x d map per sequence of the batch
(stacked along the batch dimension, local only, as the paper's RNN setting). A BASE is the CNN
task's base document restricted to ``sin1d``, ``sin2d``, ``dot``, ``gdot`` or ``zero`` with
``"channels": 1`` and ``"local": true``. ``name``, ``description`` and ``provenance`` do not
change what is computed, so the hash leaves them out.

``network`` (optional): ``"dropouts": "none"`` (the benchmark's deterministic network) or
``"official"``: train with the benchmark's official training dropouts (NAS-Bench-NLP: locked
dropout between and after the layers, weight dropout on the recurrent weights, which the
official code's weight drop also leaves untrained), as GenNAS's public code trains its copy of
the model (``Benchmark.build_variant``; ``unsupported`` on spaces without it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasproxy_bench.benchmark import DROPOUTS
from nasproxy_bench.gennas.task import (
    NOISE_TYPES,
    PRESET_DIR,
    Base,
    TaskError,
    _base,
    _base_doc,
    _fail,
    _integer,
    _keys,
    _number,
    _one_of,
    _option,
    document_of,
    math_hash,
)

SCHEMA = "gennas-rnn-task"
VERSION = 1
RNN_BASES = ("sin1d", "sin2d", "dot", "gdot", "zero")
# Public code (leeyeehoo/GenNAS): --length 8, --batch_size 16 (overrides the config's batchsize),
# 'dimension' 64 in CONF_NLP_SINGLE/COMBO, --total_iters 100, --learning_rate 0.1 (do_sample.py),
# Adam with weight_decay = the NB-NLP log's wdecay (builder_evaluator.py evaluate_nlp), 1.2e-6.
DEFAULT_SHAPE = {"length": 8, "batch": 16, "dimension": 64}
DEFAULT_TRAINING = {"iterations": 100, "lr": 0.1, "weight_decay": 1.2e-6}


@dataclass(frozen=True)
class RnnTraining:
    iterations: int
    lr: float
    weight_decay: float


@dataclass(frozen=True)
class RnnTask:
    name: str
    length: int
    batch: int
    dimension: int
    noise_type: str
    noise_level: float
    training: RnnTraining
    input: tuple[Base, ...]
    target: tuple[Base, ...]
    description: str = ""
    provenance: dict[str, Any] | None = None
    network_dropouts: str | None = None  # None: the benchmark's network (see Benchmark.build_variant)

    @property
    def hash(self) -> str:
        return rnn_task_hash(self)


def _bases(value: Any, where: str) -> tuple[Base, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(where, "expected a non-empty list of bases (summed)")
    bases = []
    for k, doc in enumerate(value):
        spot = f"{where}[{k}]"
        if isinstance(doc, dict) and doc.get("base") not in RNN_BASES:
            raise _fail(f"{spot}.base", f"an RNN task uses {', '.join(RNN_BASES)}, got {doc.get('base')!r}")
        base = _base(doc, spot)
        if base.channels != 1:
            raise _fail(f"{spot}.channels", "an RNN base is one l x d map per sequence: channels must be 1")
        if not base.local:
            raise _fail(f"{spot}.local", "RNN tasks are local only (paper Sec. 3.1.2)")
        bases.append(base)
    return tuple(bases)


def parse_rnn_task(doc: Any, *, source: str = "rnn task") -> RnnTask:
    """Validate an RNN task document; any problem is a one-line ``TaskError`` naming the field."""
    top = {"schema", "version", "name", "description", "length", "batch", "dimension", "noise", "training",
           "input", "target", "provenance", "network"}
    _keys(doc, source, top, {"schema", "version", "input", "target"})
    if doc["schema"] != SCHEMA:
        raise _fail(f"{source}.schema", f"expected {SCHEMA!r}, got {doc['schema']!r}")
    if doc["version"] != VERSION:
        raise _fail(f"{source}.version", f"this version of nasproxy-bench reads version {VERSION}, got {doc['version']!r}")
    for field in ("name", "description"):
        if not isinstance(doc.get(field, ""), str):
            raise _fail(f"{source}.{field}", "expected a string")
    shape = {k: _integer(doc.get(k, v), f"{source}.{k}", 1, 4096) for k, v in DEFAULT_SHAPE.items()}
    noise = _keys(doc.get("noise", {"type": "none", "level": 0.0}), f"{source}.noise", {"type", "level"}, {"type"})
    _one_of(noise["type"], f"{source}.noise.type", NOISE_TYPES)
    level = _number(noise.get("level", 0.0), f"{source}.noise.level", 0.0, 10.0)
    train = {**DEFAULT_TRAINING, **_keys(doc.get("training", {}), f"{source}.training", set(DEFAULT_TRAINING), set())}
    training = RnnTraining(
        _integer(train["iterations"], f"{source}.training.iterations", 0, 100_000),
        _number(train["lr"], f"{source}.training.lr", 0.0, 10.0, low_open=True),
        _number(train["weight_decay"], f"{source}.training.weight_decay", 0.0, 1.0),
    )
    provenance = doc.get("provenance")
    if provenance is not None and not isinstance(provenance, dict):
        raise _fail(f"{source}.provenance", "expected an object")
    dropouts = _option(doc, "network", "dropouts", DROPOUTS, source)
    return RnnTask(doc.get("name", ""), shape["length"], shape["batch"], shape["dimension"], noise["type"], level, training,
                   _bases(doc["input"], f"{source}.input"), _bases(doc["target"], f"{source}.target"),
                   doc.get("description", ""), provenance, dropouts)


def _math_doc(task: RnnTask) -> dict[str, Any]:
    t = task.training
    doc = {
        "schema": SCHEMA, "version": VERSION, "length": task.length, "batch": task.batch, "dimension": task.dimension,
        "noise": {"type": task.noise_type, "level": task.noise_level},
        "training": {"iterations": t.iterations, "lr": t.lr, "weight_decay": t.weight_decay},
        "input": [_base_doc(b) for b in task.input], "target": [_base_doc(b) for b in task.target],
    }
    if task.network_dropouts is not None:  # absent unless set, so older tasks keep their hash
        doc["network"] = {"dropouts": task.network_dropouts}
    return doc


def rnn_task_hash(task: RnnTask) -> str:
    """sha256 of the canonical JSON of what the task computes (name, description, provenance excluded)."""
    return math_hash(_math_doc(task))


def rnn_task_to_doc(task: RnnTask) -> dict[str, Any]:
    return document_of(SCHEMA, VERSION, task, _math_doc(task))


def is_rnn_task_doc(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("schema") == SCHEMA


def load_rnn_task(path: Path | str) -> RnnTask:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise TaskError(f"cannot read gennas task file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TaskError(f"gennas task file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_rnn_task(doc, source=path.name)


RNN_PRESETS = ("gennas_rnn_single", "gennas_rnn_combo")


def load_rnn_preset(name: str) -> RnnTask:
    """An RNN task shipped with the package (``nasproxy_bench/gennas/tasks/<name>.json``)."""
    if name not in RNN_PRESETS:
        raise TaskError(f"no shipped gennas RNN task {name!r}; choose one of: {', '.join(RNN_PRESETS)}")
    return load_rnn_task(PRESET_DIR / f"{name}.json")

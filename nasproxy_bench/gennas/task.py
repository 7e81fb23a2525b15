"""A GenNAS proxy task: a small versioned JSON document, validated into frozen dataclasses.

Document (schema version 1)::

    {"schema": "gennas-task", "version": 1, "name": "...", "description": "...",
     "noise": {"type": "none" | "gaussian" | "uniform", "level": 0.0},
     "training": {"iterations": 100, "lr": 0.1, "momentum": 0.9, "weight_decay": 4e-5},
     "loss_weights": {"train": [0.25, 0.5, 1.0], "eval": [0.25, 0.5, 1.0]},
     "stages": [{"tensors": [[BASE, ...], ...]}, x3],      # S1, S2, S3 = the last 3 stages
     "network": {"channels": 16, "cell_batchnorm": "batch_stats"},  # optional, see below
     "batch": {"augment": "crop_flip"},                     # optional, see below
     "provenance": {...}}                                   # optional, free-form, not hashed

A stage's target is the sum of its tensors; a tensor stacks its bases along channels, so
every tensor of a stage has the same channel total (the stage head's output channels). A
stage with no tensors is not trained or scored. A BASE is
``{"base": "sin1d"|"sin2d"|"dot"|"gdot"|"resize"|"zero", "channels": 64, "level": 1.0,
"local": true}`` plus, for sin1d/sin2d, ``"band": "L"|"M"|"H"`` or ``"frequencies": [...]``,
``"phase": "random"`` or radians, and for sin1d ``"axis": "random"|"x"|"y"``; for dot/gdot
``"fraction"`` in (0, 1]. ``name``, ``description`` and ``provenance`` do not change what is
computed, so the task hash (its identity in the result store) leaves them out.

``network`` (optional): train the architecture at ``channels`` first-stage channels instead of
the benchmark's own width (``Benchmark.build_with_width``; the public code trains NAS-Bench-101
at 16, not 128). Without it the benchmark's network is trained, and the hash of a task without
it is the same as before the field existed. On a space with no width knob such a task records
``unsupported``. ``cell_batchnorm`` (optional): ``"standard"`` (the benchmark's BatchNorm) or
``"batch_stats"`` (no scale/shift and batch statistics in eval too, in the cells only: GenNAS's
public NB201 model; ``Benchmark.build_variant``, NB201 only, ``unsupported`` elsewhere).

``batch`` (optional): ``"augment": "none"`` (the run's fixed images as they are) or
``"crop_flip"`` (the public code's one-time random crop with zero padding and flip of its fixed
batch, ``gennas.augment``; ``unsupported`` on datasets without image normalisation here).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasproxy_bench.benchmark import CELL_BATCHNORMS
from nasproxy_bench.errors import DataError
from nasproxy_bench.gennas.augment import AUGMENTS
from nasproxy_bench.gennas.signals import BANDS, BASES

SCHEMA = "gennas-task"
VERSION = 1
N_STAGES = 3
NOISE_TYPES = ("none", "gaussian", "uniform")
AXES = ("random", "x", "y")
MAX_CHANNELS = 1024
# Public code (do_search.py/do_sample.py defaults): SGD lr 0.1, momentum 0.9, weight decay 4e-5,
# 100 iterations, and both train and eval losses weighted 1/4, 1/2, 1 over S1..S3.
DEFAULT_TRAINING = {"iterations": 100, "lr": 0.1, "momentum": 0.9, "weight_decay": 4e-5}
DEFAULT_WEIGHTS = (0.25, 0.5, 1.0)


class TaskError(DataError):
    """A task document that does not follow the schema (the message names the field)."""


@dataclass(frozen=True)
class Base:
    kind: str
    channels: int
    level: float = 1.0
    local: bool = True
    band: str | None = None
    frequencies: tuple[float, ...] = ()
    phase: float | None = None  # None: drawn per map
    axis: str = "random"
    fraction: float = 1.0

    @property
    def freqs(self) -> tuple[float, ...]:
        return BANDS[self.band] if self.band else self.frequencies


@dataclass(frozen=True)
class Training:
    iterations: int
    lr: float
    momentum: float
    weight_decay: float


@dataclass(frozen=True)
class Task:
    name: str
    noise_type: str
    noise_level: float
    training: Training
    train_weights: tuple[float, ...]
    eval_weights: tuple[float, ...]
    stages: tuple[tuple[tuple[Base, ...], ...], ...]  # stage -> tensors -> bases
    description: str = ""
    provenance: dict[str, Any] | None = None
    network_channels: int | None = None  # None: the benchmark's own network
    network_cell_bn: str | None = None  # None: the benchmark's own BatchNorm (see Benchmark.build_variant)
    batch_augment: str | None = None  # None: the run's fixed images unchanged (see gennas.augment)

    def stage_channels(self, stage: int) -> int:
        """Output channels of the head of ``stage`` (0 when the stage is unused)."""
        tensors = self.stages[stage]
        return sum(b.channels for b in tensors[0]) if tensors else 0

    @property
    def used_stages(self) -> list[int]:
        return [i for i in range(N_STAGES) if self.stages[i]]

    def to_doc(self) -> dict[str, Any]:
        return task_to_doc(self)

    @property
    def hash(self) -> str:
        return task_hash(self)


def _fail(where: str, problem: str) -> TaskError:
    return TaskError(f"gennas task: {where}: {problem}")


def _number(value: Any, where: str, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(where, f"expected a number, got {value!r}")
    value = float(value)
    if not (low < value if low_open else low <= value) or value > high or value != value:
        raise _fail(where, f"{value} is outside {'(' if low_open else '['}{low}, {high}]")
    return value


def _integer(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(where, f"expected an integer in [{low}, {high}], got {value!r}")
    return value


def _one_of(value: Any, where: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _fail(where, f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def _option(doc: dict[str, Any], field: str, key: str, choices: tuple[str, ...], source: str) -> str | None:
    """``doc[field][key]``, one of ``choices``; None when the field is absent or holds ``choices[0]``, the
    neutral choice (the same computation as no field, so the same task hash)."""
    if field not in doc:
        return None
    value = _one_of(_keys(doc[field], f"{source}.{field}", {key}, {key})[key], f"{source}.{field}.{key}", choices)
    return None if value == choices[0] else value


def _keys(doc: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise _fail(where, f"expected an object, got {type(doc).__name__}")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise _fail(where, f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(doc))
    if missing:
        raise _fail(where, f"missing field {missing[0]!r}")
    return doc


def _base(doc: Any, where: str) -> Base:
    common = {"base", "channels", "level", "local"}
    kind = doc.get("base") if isinstance(doc, dict) else None
    _one_of(kind, f"{where}.base", BASES)
    extra = {"sin1d": {"band", "frequencies", "phase", "axis"}, "sin2d": {"band", "frequencies", "phase"},
             "dot": {"fraction"}, "gdot": {"fraction"}, "resize": set(), "zero": set()}[kind]
    if kind == "resize":
        common = common - {"local"}  # always per image
    _keys(doc, where, common | extra, {"base", "channels"})
    fields: dict[str, Any] = {"kind": kind, "channels": _integer(doc["channels"], f"{where}.channels", 1, MAX_CHANNELS)}
    fields["level"] = _number(doc.get("level", 1.0), f"{where}.level", 0.0, 100.0)
    local = doc.get("local", True)
    if not isinstance(local, bool):
        raise _fail(f"{where}.local", f"expected true or false, got {local!r}")
    fields["local"] = local
    if kind in ("sin1d", "sin2d"):
        if ("band" in doc) == ("frequencies" in doc):
            raise _fail(where, "a sin base needs exactly one of 'band' or 'frequencies'")
        if "band" in doc:
            fields["band"] = _one_of(doc["band"], f"{where}.band", BANDS)
        else:
            freqs = doc["frequencies"]
            if not isinstance(freqs, list) or not freqs:
                raise _fail(f"{where}.frequencies", "expected a non-empty list of numbers")
            fields["frequencies"] = tuple(_number(f, f"{where}.frequencies[{i}]", 0.0, 0.5) for i, f in enumerate(freqs))
        phase = doc.get("phase", "random")
        fields["phase"] = None if phase == "random" else _number(phase, f"{where}.phase", -100.0, 100.0)
        if kind == "sin1d":
            fields["axis"] = _one_of(doc.get("axis", "random"), f"{where}.axis", AXES)
    if kind in ("dot", "gdot"):
        fields["fraction"] = _number(doc.get("fraction", 1.0), f"{where}.fraction", 0.0, 1.0, low_open=True)
    return Base(**fields)


def _weights(value: Any, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != N_STAGES:
        raise _fail(where, f"expected a list of {N_STAGES} numbers (S1, S2, S3)")
    return tuple(_number(v, f"{where}[{i}]", 0.0, 100.0) for i, v in enumerate(value))


def parse_task(doc: Any, *, source: str = "task") -> Task:
    """Validate a task document; any problem is a one-line ``TaskError`` naming the field."""
    top = {"schema", "version", "name", "description", "noise", "training", "loss_weights", "stages", "provenance", "network", "batch"}
    _keys(doc, source, top, {"schema", "version", "stages"})
    if doc["schema"] != SCHEMA:
        raise _fail(f"{source}.schema", f"expected {SCHEMA!r}, got {doc['schema']!r}")
    if doc["version"] != VERSION:
        raise _fail(f"{source}.version", f"this version of nasproxy-bench reads version {VERSION}, got {doc['version']!r}")
    name = doc.get("name", "")
    if not isinstance(name, str):
        raise _fail(f"{source}.name", "expected a string")
    noise = _keys(doc.get("noise", {"type": "none", "level": 0.0}), f"{source}.noise", {"type", "level"}, {"type"})
    _one_of(noise["type"], f"{source}.noise.type", NOISE_TYPES)
    level = _number(noise.get("level", 0.0), f"{source}.noise.level", 0.0, 10.0)
    train = _keys(doc.get("training", {}), f"{source}.training", set(DEFAULT_TRAINING), set())
    train = {**DEFAULT_TRAINING, **train}
    training = Training(
        _integer(train["iterations"], f"{source}.training.iterations", 0, 100_000),
        _number(train["lr"], f"{source}.training.lr", 0.0, 10.0, low_open=True),
        _number(train["momentum"], f"{source}.training.momentum", 0.0, 1.0),
        _number(train["weight_decay"], f"{source}.training.weight_decay", 0.0, 1.0),
    )
    weights = _keys(doc.get("loss_weights", {}), f"{source}.loss_weights", {"train", "eval"}, set())
    train_w = _weights(weights.get("train", list(DEFAULT_WEIGHTS)), f"{source}.loss_weights.train")
    eval_w = _weights(weights.get("eval", list(DEFAULT_WEIGHTS)), f"{source}.loss_weights.eval")
    stages_doc = doc["stages"]
    if not isinstance(stages_doc, list) or len(stages_doc) != N_STAGES:
        raise _fail(f"{source}.stages", f"expected a list of {N_STAGES} stages (S1, S2, S3: the network's last three)")
    stages = []
    for s, stage in enumerate(stages_doc):
        where = f"{source}.stages[{s}]"
        tensors_doc = _keys(stage, where, {"tensors"}, {"tensors"})["tensors"]
        if not isinstance(tensors_doc, list):
            raise _fail(f"{where}.tensors", "expected a list of tensors (each a list of bases)")
        tensors = []
        for t, tensor in enumerate(tensors_doc):
            if not isinstance(tensor, list) or not tensor:
                raise _fail(f"{where}.tensors[{t}]", "expected a non-empty list of bases")
            tensors.append(tuple(_base(b, f"{where}.tensors[{t}][{k}]") for k, b in enumerate(tensor)))
        totals = {sum(b.channels for b in tensor) for tensor in tensors}
        if len(totals) > 1:
            raise _fail(f"{where}.tensors", f"summed tensors need equal channel totals, got {sorted(totals)}")
        if totals and max(totals) > MAX_CHANNELS:
            raise _fail(f"{where}.tensors", f"{max(totals)} channels exceed {MAX_CHANNELS}")
        stages.append(tuple(tensors))
    if not any(stages):
        raise _fail(f"{source}.stages", "every stage is empty; give at least one stage a tensor")
    if any(train_w[i] == 0 and stages[i] for i in range(N_STAGES)):
        raise _fail(f"{source}.loss_weights.train", "a stage with tensors has train weight 0")
    provenance = doc.get("provenance")
    if provenance is not None and not isinstance(provenance, dict):
        raise _fail(f"{source}.provenance", "expected an object")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise _fail(f"{source}.description", "expected a string")
    channels = cell_bn = None
    if "network" in doc:
        network = _keys(doc["network"], f"{source}.network", {"channels", "cell_batchnorm"}, set())
        if not network:
            raise _fail(f"{source}.network", "give 'channels' and/or 'cell_batchnorm', or leave the field out")
        if "channels" in network:
            channels = _integer(network["channels"], f"{source}.network.channels", 1, MAX_CHANNELS)
        if "cell_batchnorm" in network:
            cell_bn = _one_of(network["cell_batchnorm"], f"{source}.network.cell_batchnorm", CELL_BATCHNORMS)
    augment = _option(doc, "batch", "augment", AUGMENTS, source)
    return Task(name, noise["type"], level, training, train_w, eval_w, tuple(stages), description, provenance, channels, cell_bn,
                augment)


def _base_doc(base: Base) -> dict[str, Any]:
    doc: dict[str, Any] = {"base": base.kind, "channels": base.channels, "level": base.level}
    if base.kind != "resize":
        doc["local"] = base.local
    if base.kind in ("sin1d", "sin2d"):
        if base.band:
            doc["band"] = base.band
        else:
            doc["frequencies"] = list(base.frequencies)
        doc["phase"] = "random" if base.phase is None else base.phase
        if base.kind == "sin1d":
            doc["axis"] = base.axis
    if base.kind in ("dot", "gdot"):
        doc["fraction"] = base.fraction
    return doc


def _math_doc(task: Task) -> dict[str, Any]:
    t = task.training
    doc = {
        "schema": SCHEMA, "version": VERSION,
        "noise": {"type": task.noise_type, "level": task.noise_level},
        "training": {"iterations": t.iterations, "lr": t.lr, "momentum": t.momentum, "weight_decay": t.weight_decay},
        "loss_weights": {"train": list(task.train_weights), "eval": list(task.eval_weights)},
        "stages": [{"tensors": [[_base_doc(b) for b in tensor] for tensor in stage]} for stage in task.stages],
    }
    network = {}  # each key absent unless set, so older tasks keep their hash
    if task.network_channels is not None:
        network["channels"] = task.network_channels
    if task.network_cell_bn is not None:
        network["cell_batchnorm"] = task.network_cell_bn
    if network:
        doc["network"] = network
    if task.batch_augment is not None:
        doc["batch"] = {"augment": task.batch_augment}
    return doc


def task_to_doc(task: Task) -> dict[str, Any]:
    """The canonical document (every default written out); ``parse_task`` of it gives ``task`` back."""
    return document_of(SCHEMA, VERSION, task, _math_doc(task))


def task_hash(task: Task) -> str:
    """sha256 of the canonical JSON of what the task computes (name, description, provenance excluded)."""
    return math_hash(_math_doc(task))


def document_of(schema: str, version: int, task: Task | Any, math_doc: dict[str, Any]) -> dict[str, Any]:
    """A task document: schema, version, name, description, the math fields, provenance (CNN and RNN tasks)."""
    doc: dict[str, Any] = {"schema": schema, "version": version, "name": task.name}
    if task.description:
        doc["description"] = task.description
    doc.update({k: v for k, v in math_doc.items() if k not in ("schema", "version")})
    if task.provenance:
        doc["provenance"] = task.provenance
    return doc


def math_hash(math_doc: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a task's math fields: its identity."""
    return hashlib.sha256(json.dumps(math_doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_task(path: Path | str) -> Task:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TaskError(f"cannot read gennas task file {path}: {exc.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaskError(f"gennas task file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_task(doc, source=path.name)


def save_task(task: Task, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(task_to_doc(task), indent=2) + "\n")
    return path


PRESET_DIR = Path(__file__).resolve().parent / "tasks"
# *_w16: the same tasks on the network at the public code's width (16 first-stage channels; NB101's own is 128)
# gennas_search_n: the task the paper's search found on NB101 (public code CONF_NB101), at 16 channels
PRESETS = ("gennas_single", "gennas_combo", "gennas_single_w16", "gennas_combo_w16", "gennas_search_n")
PUBLIC_CODE_WIDTH = 16


def load_preset(name: str) -> Task:
    """A task shipped with the package (``nasproxy_bench/gennas/tasks/<name>.json``)."""
    if name not in PRESETS:
        raise TaskError(f"no shipped gennas task {name!r}; choose one of: {', '.join(PRESETS)}")
    return load_task(PRESET_DIR / f"{name}.json")

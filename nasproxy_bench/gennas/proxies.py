"""GenNAS as registered proxies: the shipped presets, and ``gennas:<file or preset>`` for any task."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import partial
from pathlib import Path

import torch

from nasproxy_bench.benchmark import Direction
from nasproxy_bench.errors import NasproxyError, UnsupportedNetwork
from nasproxy_bench.gennas.augment import crop_flip
from nasproxy_bench.gennas.regression import BATCH, regression_score
from nasproxy_bench.gennas.rnn import rnn_regression_score
from nasproxy_bench.gennas.rnn_task import RNN_PRESETS, RnnTask, is_rnn_task_doc, load_rnn_preset, parse_rnn_task
from nasproxy_bench.gennas.task import PRESETS, Task, TaskError, load_preset, parse_task
from nasproxy_bench.inputs import black_pixel
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec
from nasproxy_bench.tasks import TaskKind

PREFIX = "gennas:"
VERSION = "2"  # bump when the evaluation changes (2: BatchNorm momentum 0.1 on the regressed copy); a task's content is in its name/hash
RNN_VERSION = "3"  # the RNN proxies' own (3: presets at Adam lr 1e-3, the public code's first commit; 2 had HEAD's 0.1)
# Hash of each shipped preset: a test fails when a preset file changes without a version bump here.
PRESET_HASHES = {
    "gennas_single": "99b78023eca93468a4eebbbbb16c00c840b83eb503b9b5c6c6b53f2aac250bf3",
    "gennas_combo": "9194d04f886eac6f5e2bb453cdcf3dd94e0a83d95fd38ad4af097e127dd1e89d",
    "gennas_single_w16": "7cdb11368616343f2abb8cd1cc68d6ae23a70cd1c33abeb40a4745166fc4e427",
    "gennas_combo_w16": "0cc7d1ad5b1dc9c10e7b13823a73cd838128e270b1b1da1687f43f6ee7062bd8",
    "gennas_search_n": "ce8ec03ff5fe4c6632e79ba385aaa4af27e1b7f946a1b81326f8ca4e4c442002",
    "gennas_rnn_single": "01e0243dea90e031b3eeb7f98a9e40fe65d78b175af6701b71be896a4033fcc7",
    "gennas_rnn_combo": "447b187540ce430ea771671eb5e03351f383f727a81557c4cc4a2905a946916a",
}


def gennas_images(ctx: ProxyContext) -> torch.Tensor:
    """The first 16 images of the run's fixed batch.

    ``inputs.fixed_batches`` takes the first ``batch_size`` images of one seeded order, so
    these are the same 16 images for any ``--batch-size`` >= 16 (and the same as a run with
    ``--batch-size 16``).
    """
    x = ctx.batch.x
    if x.shape[0] < BATCH:
        raise ValueError(f"GenNAS trains on {BATCH} images but the run's batch has {x.shape[0]}; use --batch-size >= {BATCH}")
    return x[:BATCH].to(ctx.device)


def task_images(task: Task, ctx: ProxyContext) -> torch.Tensor:
    """The images ``task`` trains on: ``gennas_images``, augmented once when the task asks for it."""
    images = gennas_images(ctx)
    if task.batch_augment == "crop_flip":
        fill = black_pixel(ctx.dataset.name)
        if fill is None:
            raise UnsupportedNetwork(f"crop_flip needs image normalisation constants; dataset {ctx.dataset.name} has none here")
        images = crop_flip(images, fill, ctx.seed)
    return images


def score_task(task: Task, ctx: ProxyContext) -> float:
    if task.network_channels is None and task.network_cell_bn is None:
        model = ctx.fresh_model()
    else:
        model = ctx.model_variant(channels=task.network_channels, cell_bn=task.network_cell_bn or "standard")
    return regression_score(model, task_images(task, ctx), task, ctx.seed)


def task_spec(task: Task, name: str) -> ProxySpec:
    return ProxySpec(
        name, partial(score_task, task), "gennas", VERSION, Direction.LOWER, needs_data=True, bn="train",
        description=f"GenNAS regression loss, task {task.name or '(unnamed)'} {task.hash[:12]} "
                    f"({task.training.iterations} SGD iterations"
                    f"{'' if task.network_channels is None else f', network at {task.network_channels} channels'}"
                    f"{'' if task.network_cell_bn is None else f', cell BatchNorm {task.network_cell_bn}'}"
                    f"{'' if task.batch_augment is None else f', batch {task.batch_augment}'})",
        opt_in=True,
    )


def score_rnn_task(task: RnnTask, ctx: ProxyContext) -> float:
    model = ctx.fresh_model() if task.network_dropouts is None else ctx.model_variant(dropouts=task.network_dropouts)
    return rnn_regression_score(model, task, ctx.seed, ctx.device)


def rnn_task_spec(task: RnnTask, name: str) -> ProxySpec:
    """An RNN task as a proxy: sequence tasks only, synthetic inputs (no minibatch), no BatchNorm."""
    return ProxySpec(
        name, partial(score_rnn_task, task), "gennas", RNN_VERSION, Direction.LOWER, needs_data=False, bn="none",
        tasks=frozenset({TaskKind.SEQUENCE}),
        description=f"GenNAS RNN regression loss, task {task.name or '(unnamed)'} {task.hash[:12]} "
                    f"({task.training.iterations} Adam iterations"
                    f"{'' if task.network_dropouts is None else f', {task.network_dropouts} dropouts'})",
        opt_in=True,
    )


def task_proxy_name(task: Task | RnnTask) -> str:
    return f"{PREFIX}{task.hash[:16]}"


# Task files resolved in this process, by proxy name: the run's chunks name their proxies by
# ``spec.name`` (``gennas:<16 hex>``) and re-resolve them through ``get_proxy``. Filled by
# ``spec_for`` (the process that read the file) and by ``register_task_documents`` (a worker that
# received the documents with its chunk, see ``task_documents``).
_FILE_TASKS: dict[str, ProxySpec] = {}
_FILE_DOCS: dict[str, str] = {}  # proxy name -> the task's JSON document, as it travels to workers


def _spec_from_doc(doc: dict, source: str) -> ProxySpec:
    if is_rnn_task_doc(doc):
        rnn_task = parse_rnn_task(doc, source=source)
        return rnn_task_spec(rnn_task, task_proxy_name(rnn_task))
    task = parse_task(doc, source=source)
    return task_spec(task, task_proxy_name(task))


def task_documents(names: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """(proxy name, JSON document) of every task-file proxy among ``names``: what a worker needs to resolve them."""
    return tuple((name, _FILE_DOCS[name]) for name in names if name in _FILE_DOCS)


def register_task_documents(documents: Iterable[tuple[str, str]]) -> None:
    """Make task-file proxies received by value (a ``--workers`` process, a Ray actor) resolvable here."""
    for name, text in documents:
        if name not in _FILE_TASKS:
            spec = _spec_from_doc(json.loads(text), source=name)
            if spec.name != name:
                raise NasproxyError(f"task document sent as {name!r} hashes to {spec.name!r}; rerun the command")
            _FILE_TASKS[name] = spec
            _FILE_DOCS[name] = text


def spec_for(reference: str) -> ProxySpec:
    """``gennas:<preset name>`` or ``gennas:<path to task.json>``: a proxy for that task.

    A task file's proxy is named by its hash (``gennas:<16 hex>``), so the same task from any
    path shares stored results, and an edited file is a new proxy. That name resolves again
    in the process that read the file.
    """
    if reference in _FILE_TASKS:
        return _FILE_TASKS[reference]
    target = reference[len(PREFIX):] if reference.startswith(PREFIX) else reference
    if len(target) == 16 and all(c in "0123456789abcdef" for c in target):
        raise NasproxyError(f"{reference!r} names a task file's proxy; give the task file itself (gennas:path/to/task.json)")
    if target in PRESETS:
        return task_spec(load_preset(target), target)
    if target in RNN_PRESETS:
        return rnn_task_spec(load_rnn_preset(target), target)
    path = Path(target)
    if not path.suffix == ".json" and not path.exists():
        raise NasproxyError(f"{reference!r}: give a shipped task ({', '.join(PRESETS + RNN_PRESETS)}) or a task .json file")
    doc = read_task_doc(path)
    spec = _spec_from_doc(doc, source=path.name)
    _FILE_TASKS[spec.name] = spec
    _FILE_DOCS[spec.name] = json.dumps(doc, sort_keys=True)
    return spec


def read_task_doc(path: Path) -> object:
    """The JSON document of a task file (CNN or RNN schema); one-line ``TaskError`` when unreadable."""
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise TaskError(f"cannot read gennas task file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise TaskError(f"gennas task file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def preset_specs() -> list[ProxySpec]:
    return [task_spec(load_preset(name), name) for name in PRESETS] + [rnn_task_spec(load_rnn_preset(n), n) for n in RNN_PRESETS]


def __getattr__(name: str) -> list[ProxySpec]:  # PROXIES is built on first access (the registry's), not at import
    if name == "PROXIES":
        return preset_specs()
    raise AttributeError(name)

"""GenNAS as registered proxies: the shipped presets, and ``gennas:<file or preset>`` for any task."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from nasproxy_bench.benchmark import Direction
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.gennas.regression import BATCH, regression_score
from nasproxy_bench.gennas.task import PRESETS, Task, load_preset, load_task
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec

PREFIX = "gennas:"
VERSION = "1"  # bump when the evaluation changes; a task's own content is in its name/hash
# Hash of each shipped preset: a test fails when a preset file changes without a version bump here.
PRESET_HASHES = {
    "gennas_single": "99b78023eca93468a4eebbbbb16c00c840b83eb503b9b5c6c6b53f2aac250bf3",
    "gennas_combo": "9194d04f886eac6f5e2bb453cdcf3dd94e0a83d95fd38ad4af097e127dd1e89d",
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


def score_task(task: Task, ctx: ProxyContext) -> float:
    return regression_score(ctx.fresh_model(), gennas_images(ctx), task, ctx.seed)


def task_spec(task: Task, name: str) -> ProxySpec:
    return ProxySpec(
        name, partial(score_task, task), "gennas", VERSION, Direction.LOWER, needs_data=True, bn="train",
        description=f"GenNAS regression loss, task {task.name or '(unnamed)'} {task.hash[:12]} "
                    f"({task.training.iterations} SGD iterations)",
        opt_in=True,
    )


def task_proxy_name(task: Task) -> str:
    return f"{PREFIX}{task.hash[:16]}"


def spec_for(reference: str) -> ProxySpec:
    """``gennas:<preset name>`` or ``gennas:<path to task.json>``: a proxy for that task.

    A task file's proxy is named by its hash (``gennas:<16 hex>``), so the same task from any
    path shares stored results, and an edited file is a new proxy.
    """
    target = reference[len(PREFIX):] if reference.startswith(PREFIX) else reference
    if target in PRESETS:
        return task_spec(load_preset(target), target)
    path = Path(target)
    if not path.suffix == ".json" and not path.exists():
        raise NasproxyError(f"{reference!r}: give a shipped task ({', '.join(PRESETS)}) or a task .json file")
    task = load_task(path)
    return task_spec(task, task_proxy_name(task))


def preset_specs() -> list[ProxySpec]:
    return [task_spec(load_preset(name), name) for name in PRESETS]


def __getattr__(name: str) -> list[ProxySpec]:  # PROXIES is built on first access (the registry's), not at import
    if name == "PROXIES":
        return preset_specs()
    raise AttributeError(name)

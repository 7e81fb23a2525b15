"""``run --all``: every registered benchmark x dataset/task that has data here, in one store.

The plan sorts each (benchmark, dataset) into: scored and correlated (architectures, inputs and
ground truth present); scored only (architectures and inputs but no accuracy table: a plain
note says so); left out by the ``--all`` defaults (a 224 px NDS variant whose 64 px twin has the
same ground truth); missing (listed at the end with the command that gets the data). Before any
work it prints the cost (architectures x proxies and seconds, from per-architecture times
already in the store or measured on one architecture per benchmark); then one progress bar per
space and an overall one; after, the per-space tables (report.py) and the SPR@All heatmap.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import DataError, MissingGroundTruth, NasproxyError
from nasproxy_bench.execution.threads import torch_threads
from nasproxy_bench.registry import get_benchmark

# Proxies of --all when --proxies is not given: the zero-cost literature's core six (structural,
# one forward-backward, synflow's all-ones pass and one NASWOT forward), so that
# `run --all --n 100 --workers 2` ends on a 2-core CPU. Ask for more with --proxies.
ALL_DEFAULT_PROXIES = ("params", "flops", "synflow", "snip", "grad_norm", "naswot")


@dataclass(frozen=True)
class SpaceDefault:
    """What --all changes for one family of spaces (by benchmark-name prefix), and why."""

    prefix: str
    why: str
    proxies: tuple[str, ...] | None = None  # None: ALL_DEFAULT_PROXIES (or --proxies when given)
    batch_size: int | None = None  # None: --batch-size (64)
    skip_datasets: tuple[str, ...] = ()


SPACE_DEFAULTS = (
    SpaceDefault("nds_", "ImageNet inputs: --all scores the imagenet-32 variant (GenNAS's 32 px protocol, same ground truth; "
                 "224 px costs 49x the pixels, imagenet-64 4x)",
                 skip_datasets=("imagenet", "imagenet-64")),
    SpaceDefault("tnb101_", "256 px Taskonomy inputs: batch 8, no naswot (an 8x8 kernel says little)",
                 proxies=("params", "flops", "synflow", "snip", "grad_norm"), batch_size=8),
    SpaceDefault("nbnlp", "3-layer RNN language model: synflow/snip cost ~7 s per cell on CPU",
                 proxies=("params", "l2_norm", "grad_norm")),
    SpaceDefault("nb101", "9-cell 128-channel stacks at 32 px: batch 16 (~75 s per cell at batch 64 with 8 proxies on a loaded CPU)",
                 batch_size=16),
)


def space_default(benchmark: str) -> SpaceDefault | None:
    return next((d for d in SPACE_DEFAULTS if benchmark.startswith(d.prefix)), None)


@dataclass
class Task:
    config: RunConfig
    n_archs: int
    note: str = ""  # e.g. why it is scored without correlations
    per_arch_s: float = math.nan  # estimated seconds per architecture, all proxies


@dataclass(frozen=True)
class Missing:
    benchmark: str
    dataset: str
    reason: str
    command: str


@dataclass
class AllPlan:
    tasks: list[Task]
    missing: list[Missing]
    left_out: list[tuple[str, str, str]]  # (benchmark, dataset, why)


def data_family(benchmark: str) -> str:
    """The name under which ``import``/``data download`` fetch a benchmark's files."""
    return "nds" if benchmark.startswith("nds_") else benchmark


def get_command(benchmark: str) -> str:
    family = data_family(benchmark)
    return f"nasproxy-bench data download {family}  (or: nasproxy-bench import {family} --source <official files>)"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def plan_all(configs: list[RunConfig], data_root: Path, *, proxies_given: bool, batch_given: bool) -> AllPlan:
    """Sort every (benchmark, dataset) of ``configs`` by what its data here allows; apply the --all defaults."""
    from nasproxy_bench.runner import task_batches

    plan = AllPlan([], [], [])
    for config in configs:
        default = space_default(config.benchmark)
        if default and config.dataset in default.skip_datasets:
            plan.left_out.append((config.benchmark, config.dataset, default.why))
            continue
        bench = get_benchmark(config.benchmark)(data_root, trust_pickles=config.trust_pickles)
        dataset = bench.dataset(config.dataset)
        try:
            n_space = len(bench)
        except DataError as exc:
            plan.missing.append(Missing(config.benchmark, config.dataset, _first_line(exc), get_command(config.benchmark)))
            continue
        note = ""
        try:
            bench.ground_truth(config.dataset)
        except MissingGroundTruth as exc:
            note = f"architectures only, scored without correlations: {_first_line(exc)}"
        except DataError as exc:
            plan.missing.append(Missing(config.benchmark, config.dataset, _first_line(exc), get_command(config.benchmark)))
            continue
        try:
            task_batches(dataset, data_root, config.seeds[0] if config.seeds else 0, 2, 1)
        except DataError as exc:
            plan.missing.append(Missing(config.benchmark, config.dataset, f"inputs: {_first_line(exc)}", get_command(config.benchmark)))
            continue
        if default and not proxies_given and default.proxies:
            config = replace(config, proxies=list(default.proxies))
        elif not proxies_given:
            config = replace(config, proxies=list(ALL_DEFAULT_PROXIES))
        if default and not batch_given and default.batch_size:
            config = replace(config, batch_size=default.batch_size)
        if config.n is not None and config.n > n_space:
            config = replace(config, n=None)  # a space smaller than --n: every architecture
        n_archs = n_space if config.n is None else config.n
        plan.tasks.append(Task(config, n_archs * max(1, len(config.seeds)), note))
    return plan


def _stored_seconds(store_path: Path, config: RunConfig, names: list[str]) -> float | None:
    """Median seconds per architecture (sum over ``names``) of records already in the store, if all are there."""
    from nasproxy_bench.store import ResultStore

    if not store_path.exists():
        return None
    per_proxy = {}
    for group in ResultStore(store_path).groups.values():
        k = group.key
        if (k.benchmark, k.dataset, k.batch_size) == (config.benchmark, config.dataset, config.batch_size) and k.proxy in names:
            times = [r.wall_s for r in group.records.values()]
            if times:
                per_proxy[k.proxy] = float(np.median(times))
    return sum(per_proxy.values()) if set(per_proxy) == set(names) else None


def probe_seconds(config: RunConfig) -> float:
    """CPU seconds to build one architecture of the sample and run every proxy on it (nothing stored).

    Process CPU time rather than wall time, so that other load on a shared machine does not
    inflate the estimate (the caller runs it on one torch thread, as a worker does).
    """
    from nasproxy_bench.proxies.base import ProxyContext
    from nasproxy_bench.runner import build_model, evaluate, model_device, resolve_device, resolve_proxies, task_batches

    bench = get_benchmark(config.benchmark)(config.data_root, trust_pickles=config.trust_pickles)
    dataset = bench.dataset(config.dataset)
    specs = resolve_proxies(config.proxies)
    device = resolve_device(config.device)
    n_batches = max((s.n_batches for s in specs if s.needs_data), default=0)
    batches = [b.to(device) for b in task_batches(dataset, config.data_root, 0, config.batch_size, n_batches)]
    arch = bench.sample(1, config.sample_seed)[0]
    start = time.process_time()
    model = build_model(bench, arch, dataset.name, 0, model_device(specs, device))
    ctx = ProxyContext(bench, arch, dataset, model, batches, 0, device, frozenset(s.name for s in specs))
    for spec in specs:
        evaluate(spec, ctx)
    return time.process_time() - start


def estimate(plan: AllPlan, store_path: Path, *, probe: bool = True) -> None:
    """Fill each task's seconds per architecture: from the store, else one probe per benchmark and proxy set."""
    from nasproxy_bench.runner import resolve_proxies

    probed: dict[tuple, float] = {}
    for task in plan.tasks:
        config = task.config
        names = [s.name for s in resolve_proxies(config.proxies)]
        stored = _stored_seconds(store_path, config, names)
        if stored is not None:
            task.per_arch_s = stored
            continue
        key = (config.benchmark, tuple(names), config.batch_size)
        if probe and key not in probed:
            with torch_threads(1):  # as in the workers
                probed[key] = probe_seconds(config)
        task.per_arch_s = probed.get(key, math.nan)


def cost_lines(plan: AllPlan, workers: int) -> list[str]:
    from nasproxy_bench.runner import resolve_proxies

    lines = [f"{'benchmark/dataset':34s} {'archs':>6s} {'proxies':>7s} {'s/arch':>7s} {'est. s':>8s}"]
    total_archs = total_scores = 0
    total_s = 0.0
    for task in plan.tasks:
        n_proxies = len(resolve_proxies(task.config.proxies))
        seconds = task.n_archs * task.per_arch_s
        total_archs += task.n_archs
        total_scores += task.n_archs * n_proxies
        total_s += 0.0 if math.isnan(seconds) else seconds
        lines.append(f"{task.config.benchmark + '/' + task.config.dataset:34s} {task.n_archs:6d} {n_proxies:7d} "
                     f"{task.per_arch_s:7.2f} {seconds:8.0f}")
    plural = "s" if workers > 1 else ""
    lines.append(f"total: {len(plan.tasks)} tasks, {total_archs:,} architectures, {total_scores:,} scores, "
                 f"~{total_s / 60:.1f} min of one core (~{total_s / 60 / workers:.1f} min with {workers} worker{plural})")
    return lines


def cmd_run_all(configs: list[RunConfig], data_root: Path, args: argparse.Namespace) -> None:
    from nasproxy_bench.overview import write_overview
    from nasproxy_bench.report import write_reports
    from nasproxy_bench.runner import make_executor, run

    if args.executor == "ray":  # a missing extra is said before minutes of planning and probing
        from nasproxy_bench.execution.ray_executor import import_ray

        import_ray()
    plan = plan_all(configs, data_root, proxies_given=args.proxies is not None, batch_given=args.batch_size is not None)
    if not plan.tasks:
        for line in missing_lines(plan):
            print(line)
        raise NasproxyError(f"no benchmark has data under {data_root}; get some with the commands above")
    estimate(plan, args.store)
    print(f"run --all over {data_root}: cost estimate (seconds per architecture from the store or one probe architecture)")
    for line in cost_lines(plan, plan.tasks[0].config.workers):
        print(line)
    if args.dry_run:
        for line in missing_lines(plan):
            print(line)
        return
    overall = tqdm(total=sum(t.n_archs for t in plan.tasks), desc="all spaces", unit="arch", disable=args.no_progress,
                   position=0)
    executor = make_executor(plan.tasks[0].config)
    try:
        with overall:
            for task in plan.tasks:
                start = time.perf_counter()
                summary = run(task.config, progress=not args.no_progress, executor=executor, on_scored=overall.update)
                tqdm.write(f"{task.config.benchmark}/{task.config.dataset}: {summary.computed} scores computed, "
                           f"{summary.skipped} architectures already stored, {summary.errors} proxy errors "
                           f"({time.perf_counter() - start:.0f} s)" + (f"; note: {task.note}" if task.note else ""))
    finally:
        executor.close()
    try:
        for path in write_reports(args.store, data_root, args.reports):
            print(f"wrote {path}")
        for path in write_overview(args.store, data_root, args.reports, [t.config for t in plan.tasks]):
            print(f"wrote {path}")
    except MissingGroundTruth:
        print("note: nothing scored here has ground truth; no correlation tables or heatmap")
    for line in missing_lines(plan):
        print(line)


def missing_lines(plan: AllPlan) -> list[str]:
    lines = [f"note: {t.config.benchmark}/{t.config.dataset}: {t.note}" for t in plan.tasks if t.note]
    if plan.left_out:
        lines.append("left out by the --all defaults (run them with --benchmark/--dataset):")
        lines += [f"  {bench}/{dataset}: {why}" for bench, dataset, why in plan.left_out]
    if plan.missing:
        lines.append("not run, data missing here:")
        commands: dict[str, str] = {}
        for item in plan.missing:
            lines.append(f"  {item.benchmark}/{item.dataset}: {item.reason}")
            commands.setdefault(data_family(item.benchmark), item.command)
        lines.append("get the missing data with:")
        lines += [f"  {command}" for command in commands.values()]
    return lines

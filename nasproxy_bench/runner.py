"""Evaluate proxies over a seeded architecture sample and record every score in the store."""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from nasproxy_bench import __version__
from nasproxy_bench.benchmark import Benchmark
from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import NasproxyError, UnsupportedNetwork
from nasproxy_bench.inputs import Batch, fixed_batches
from nasproxy_bench.memory import release_freed_memory, rss_mib
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec
from nasproxy_bench.registry import get_benchmark, get_proxy
from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, STATUS_UNSUPPORTED, Record, ResultStore, RunKey


@dataclass
class RunSummary:
    computed: int = 0
    skipped: int = 0
    errors: int = 0
    peak_rss_mib: float = 0.0  # sampled after each architecture


def resolve_device(name: str) -> torch.device:
    if name not in ("cpu", "cuda"):
        raise NasproxyError(f"unknown device {name!r}; use cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise NasproxyError("--device cuda given but torch sees no CUDA GPU; use --device cpu")
    return torch.device(name)


def resolve_proxies(names: Iterable[str]) -> list[ProxySpec]:
    """The per-network proxies to run; an ensemble contributes its constituents instead.

    ``all`` is every registered proxy except the opt-in (expensive) ones; name those explicitly,
    e.g. ``all,ntk_cond_te``.
    """
    from nasproxy_bench.registry import proxies

    requested: list[ProxySpec] = []
    for name in names:
        if name == "all":
            requested.extend(spec for spec in proxies().values() if not spec.opt_in)
        else:
            requested.append(get_proxy(name))
    out: dict[str, ProxySpec] = {}
    for spec in requested:
        for part in [get_proxy(n) for n in spec.derived_from] if spec.derived_from else [spec]:
            out.setdefault(part.name, part)
    return list(out.values())


def evaluate(spec: ProxySpec, ctx: ProxyContext) -> Record:
    """One proxy on one architecture, as a store record (never raises for proxy failures)."""
    if ctx.dataset.task not in spec.tasks:
        return Record(math.nan, 0.0, STATUS_UNSUPPORTED, f"{spec.name} does not support {ctx.dataset.task.value}")
    start = time.perf_counter()
    try:
        score = float(spec.fn(ctx))
    except UnsupportedNetwork as exc:
        return Record(math.nan, time.perf_counter() - start, STATUS_UNSUPPORTED, str(exc))
    except (RuntimeError, ValueError, ArithmeticError, NotImplementedError) as exc:
        return Record(math.nan, time.perf_counter() - start, STATUS_ERROR, f"{type(exc).__name__}: {exc}")
    return Record(score, time.perf_counter() - start, STATUS_OK)


LIST_SAMPLE = -1  # store key of runs over a user-given architecture list


def canonical_list(benchmark: Benchmark, texts: Iterable[str]) -> list[str]:
    """Canonical strings of user-given architectures; a malformed one is a one-line error."""
    out = []
    for number, text in enumerate(texts, start=1):
        try:
            out.append(benchmark.canonical(benchmark.parse(text)))
        except ValueError as exc:
            raise NasproxyError(f"architecture {number} of the list is malformed: {exc}") from None
    known = set(benchmark.archs())
    missing = [a for a in out if a not in known]
    if missing:
        raise NasproxyError(f"{len(missing)} listed architectures have no ground truth in {benchmark.name}, e.g. {missing[0]}")
    return list(dict.fromkeys(out))


def build_model(benchmark: Benchmark, arch: str, dataset: str, seed: int, device: torch.device) -> torch.nn.Module:
    """The network every proxy of a run sees: initialised from ``seed``, in train mode.

    On the ``meta`` device the network has shapes but no values (no memory, no init): enough
    for structural proxies, and much faster to build.
    """
    if device.type == "meta":
        with torch.device("meta"):
            return benchmark.build(arch, dataset).train()
    torch.manual_seed(seed)
    return benchmark.build(arch, dataset).to(device).train()


def model_device(specs: list[ProxySpec], device: torch.device) -> torch.device:
    """``meta`` when every proxy only needs the network's structure, else the run's device."""
    return torch.device("meta") if all(s.family == "structural" for s in specs) else device


def provenance(device: torch.device, batches: list[Batch]) -> dict[str, object]:
    source = batches[0].source if batches else "none"
    return {
        "package_version": __version__,
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "input_source": source,
        "surrogate_inputs": bool(batches and batches[0].surrogate),
    }


def run(config: RunConfig, *, progress: bool = True) -> RunSummary:
    benchmark = get_benchmark(config.benchmark)(config.data_root, trust_pickles=config.trust_pickles)
    dataset = benchmark.dataset(config.dataset)
    specs = resolve_proxies(config.proxies)
    device = resolve_device(config.device)
    if config.arch_list is not None:
        archs, sample_seed = canonical_list(benchmark, config.arch_list)[: config.n], LIST_SAMPLE
    else:
        archs, sample_seed = benchmark.sample(config.n, config.sample_seed), config.sample_seed
    requested = frozenset(s.name for s in specs)
    build_device = model_device(specs, device)
    summary = RunSummary()
    with ResultStore(config.store) as store:
        for seed in config.seeds:
            keys = {
                s.name: RunKey(benchmark.name, dataset.name, s.name, s.version, sample_seed, config.batch_size, seed)
                for s in specs
            }
            for key in keys.values():  # scores a search or another sample already computed
                store.adopt(key, archs)
            todo = [a for a in archs if any(a not in store.done(keys[s.name]) for s in specs)]
            summary.skipped += len(archs) - len(todo)
            if not todo:
                continue
            n_batches = max((s.n_batches for s in specs if s.needs_data), default=0)
            batches = [
                b.to(device)
                for b in fixed_batches(config.data_root, dataset.name, seed, config.batch_size, n_batches)
            ]
            prov = provenance(device, batches)
            bar = tqdm(todo, desc=f"{benchmark.name}/{dataset.name} seed {seed}", disable=not progress, unit="arch")
            for arch in bar:
                model = build_model(benchmark, arch, dataset.name, seed, build_device)
                ctx = ProxyContext(benchmark, arch, dataset, model, batches, seed, device, requested)
                for spec in specs:
                    if arch in store.done(keys[spec.name]):
                        continue
                    record = evaluate(spec, ctx)
                    summary.computed += 1
                    summary.errors += record.status == STATUS_ERROR
                    store.add(keys[spec.name], arch, record, prov)
                del ctx, model
                release_freed_memory()
                summary.peak_rss_mib = max(summary.peak_rss_mib, rss_mib())
                store.maybe_checkpoint(config.checkpoint_s)
    return summary


__all__ = ["run", "RunSummary", "evaluate", "build_model", "STATUS_OK"]

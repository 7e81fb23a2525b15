"""A chunk of work, passed by value, and the code that scores it (in any process)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nasproxy_bench.benchmark import Benchmark
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.inputs import Batch
from nasproxy_bench.memory import high_water_mib, release_freed_memory, rss_mib
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.store import STATUS_ERROR, Record


@dataclass(frozen=True)
class Chunk:
    """Architectures of one (benchmark, dataset, seed), with the proxies each still needs.

    ``proxies`` are all per-network proxies of the run (they decide the build device and the
    number of minibatches, as in a sequential run); ``todo`` pairs each architecture with the
    subset not yet in the store.
    """

    benchmark: str
    data_root: Path
    trust_pickles: bool
    dataset: str
    seed: int
    batch_size: int
    device: str
    proxies: tuple[str, ...]
    todo: tuple[tuple[str, tuple[str, ...]], ...]
    task_documents: tuple[tuple[str, str], ...] = ()  # GenNAS task files among ``proxies``, by value (see gennas.proxies)

    @property
    def archs(self) -> list[str]:
        return [arch for arch, _ in self.todo]


@dataclass(frozen=True)
class ScoredRecord:
    arch: str
    proxy: str
    record: Record


@dataclass
class ChunkResult:
    records: list[ScoredRecord] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    peak_rss_mib: float = 0.0  # the worker process's high-water mark
    settled_rss_mib: float = 0.0  # its largest resident memory after an architecture


class ChunkRunner:
    """Scores chunks, keeping the loaded benchmark and the run's minibatches between chunks."""

    def __init__(self, benchmark: Benchmark | None = None) -> None:
        self._benchmarks: dict[tuple[str, str, bool], Benchmark] = {}
        if benchmark is not None:
            self._benchmarks[(benchmark.name, str(benchmark.data_root), benchmark.trust_pickles)] = benchmark
        self._batches: dict[tuple, list[Batch]] = {}

    def _benchmark(self, chunk: Chunk) -> Benchmark:
        from nasproxy_bench.registry import get_benchmark

        key = (chunk.benchmark, str(chunk.data_root), chunk.trust_pickles)
        if key not in self._benchmarks:
            self._benchmarks[key] = get_benchmark(chunk.benchmark)(chunk.data_root, trust_pickles=chunk.trust_pickles)
        return self._benchmarks[key]

    def run(self, chunk: Chunk) -> ChunkResult:
        from nasproxy_bench.registry import get_proxy
        from nasproxy_bench.runner import build_model, evaluate, model_device, one_line, provenance, resolve_device, task_batches

        benchmark = self._benchmark(chunk)
        dataset = benchmark.dataset(chunk.dataset)
        if chunk.task_documents:
            from nasproxy_bench.gennas.proxies import register_task_documents

            register_task_documents(chunk.task_documents)
        specs = {name: get_proxy(name) for name in chunk.proxies}
        device = resolve_device(chunk.device)
        n_batches = max((s.n_batches for s in specs.values() if s.needs_data), default=0)
        batch_key = (chunk.benchmark, str(chunk.data_root), chunk.dataset, chunk.seed, chunk.batch_size, n_batches, chunk.device)
        if batch_key not in self._batches:
            self._batches = {batch_key: [b.to(device) for b in task_batches(
                dataset, chunk.data_root, chunk.seed, chunk.batch_size, n_batches)]}  # one seed's inputs at a time
        batches = self._batches[batch_key]
        build_device = model_device(list(specs.values()), device)
        result = ChunkResult(provenance=provenance(device, batches))
        for arch, names in chunk.todo:
            try:
                model = build_model(benchmark, arch, dataset.name, chunk.seed, build_device)
            except NasproxyError:
                raise
            except Exception as exc:  # e.g. out of memory under --memory-limit: this architecture only
                failed = Record(math.nan, 0.0, STATUS_ERROR, f"building the network failed: {one_line(exc)}")
                result.records.extend(ScoredRecord(arch, name, failed) for name in names)
                release_freed_memory()
                continue
            ctx = ProxyContext(benchmark, arch, dataset, model, batches, chunk.seed, device, frozenset(specs))
            for name in names:
                result.records.append(ScoredRecord(arch, name, evaluate(specs[name], ctx)))
            ctx.release()
            del ctx, model
            release_freed_memory()
            result.settled_rss_mib = max(result.settled_rss_mib, rss_mib())
        result.peak_rss_mib = high_water_mib()
        return result


def chunked(todo: list[tuple[str, tuple[str, ...]]], size: int) -> list[tuple[tuple[str, tuple[str, ...]], ...]]:
    """``todo`` cut into consecutive pieces of at most ``size`` architectures."""
    return [tuple(todo[start:start + size]) for start in range(0, len(todo), size)]

"""Speed and memory benchmark of the proxies (a measurement, never a test assertion).

For each of ``n`` seeded architectures, on the run's fixed batch:
- baseline: one plain forward + backward (cross-entropy) of the network, after a warm-up pass;
- each proxy alone (its own context: no shared passes), as a ratio to the baseline;
- the eight measures of the reference zero-cost implementation together (shared passes);
- the whole suite together (shared passes);
- resident memory after each architecture, to show it stays flat.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from nasproxy_bench.memory import release_freed_memory, rss_mib
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec
from nasproxy_bench.registry import get_benchmark
from nasproxy_bench.runner import build_model, evaluate, resolve_device, resolve_proxies, task_batches

REFERENCE_EIGHT = ("grad_norm", "snip", "synflow", "synflow_bn", "grasp", "fisher", "jacob_cov", "plain")


@dataclass
class SpeedResult:
    baseline_s: list[float] = field(default_factory=list)
    alone_s: dict[str, list[float]] = field(default_factory=dict)
    reference_s: list[float] = field(default_factory=list)
    suite_s: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)

    def ratio(self, times: list[float]) -> float:
        return float(np.mean(np.array(times) / np.array(self.baseline_s)))

    def to_markdown(self, header: str) -> str:
        lines = [header, "", "| proxy | mean time (s) | × forward+backward |", "|---|---|---|"]
        lines.append(f"| forward+backward (baseline) | {np.mean(self.baseline_s):.3f} | 1.00 |")
        for name, times in sorted(self.alone_s.items(), key=lambda kv: -np.mean(kv[1])):
            lines.append(f"| {name} (alone) | {np.mean(times):.3f} | {self.ratio(times):.2f} |")
        if self.reference_s:
            lines.append(f"| **reference eight together** | {np.mean(self.reference_s):.3f} | **{self.ratio(self.reference_s):.2f}** |")
        lines.append(f"| **whole suite together** | {np.mean(self.suite_s):.3f} | **{self.ratio(self.suite_s):.2f}** |")
        rss = self.rss_mib
        lines += ["", f"Resident memory after architecture 1 / {len(rss) // 2} / {len(rss)}: "
                  f"{rss[0]:.0f} / {rss[len(rss) // 2 - 1]:.0f} / {rss[-1]:.0f} MiB."]
        return "\n".join(lines) + "\n"


def _timed_suite(specs: list[ProxySpec], make_ctx) -> float:
    ctx = make_ctx(frozenset(s.name for s in specs))
    start = time.perf_counter()
    for spec in specs:
        evaluate(spec, ctx)
    return time.perf_counter() - start


def measure_speed(
    data_root: Path, benchmark: str, dataset: str, proxies: list[str], *, n: int = 50, seed: int = 0,
    batch_size: int = 64, device: str = "cpu", progress=None,
) -> SpeedResult:
    bench = get_benchmark(benchmark)(data_root)
    spec_ds = bench.dataset(dataset)
    dev = resolve_device(device)
    specs = resolve_proxies(proxies)
    batches = [b.to(dev) for b in task_batches(spec_ds, data_root, seed, batch_size, max(s.n_batches for s in specs))]
    reference = [s for s in specs if s.name in REFERENCE_EIGHT]
    result = SpeedResult(alone_s={s.name: [] for s in specs})
    archs = bench.sample(n, seed)
    for arch in progress(archs) if progress else archs:
        model = build_model(bench, arch, dataset, seed, dev)

        def make_ctx(requested: frozenset[str], model=model, arch=arch) -> ProxyContext:
            return ProxyContext(bench, arch, spec_ds, model, batches, seed, dev, requested)

        times = []
        for _ in range(2):  # the first pass warms up allocator and kernels
            copy = make_ctx(frozenset()).fresh_model()
            start = time.perf_counter()
            F.cross_entropy(copy(batches[0].x), batches[0].y).backward()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        result.baseline_s.append(times[-1])
        for spec in specs:
            result.alone_s[spec.name].append(_timed_suite([spec], make_ctx))
        if len(reference) == len(REFERENCE_EIGHT):
            result.reference_s.append(_timed_suite(reference, make_ctx))
        result.suite_s.append(_timed_suite(specs, make_ctx))
        release_freed_memory()
        result.rss_mib.append(rss_mib())
    return result

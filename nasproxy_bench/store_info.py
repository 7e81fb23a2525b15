"""What a result store holds: per run, how far it got; per proxy, its statuses and wall time.

Answers "where does this long run stand?" without ground truth, data root or torch: a run (one
benchmark, dataset, sample, batch size and seed) lists each proxy's records by status, and counts
the architectures that have a record of every proxy. A proxy stored under several versions (an
old store resumed by newer code) counts only its newest version there; the older ones are listed
as superseded. (Reports instead keep the version the code registers, ``report.current_groups``;
that needs the registry, this module does not.)
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, STATUS_UNSUPPORTED, Group, ResultStore

RunId = tuple[str, str, int, int, int]  # benchmark, dataset, sample seed, batch size, seed


@dataclass(frozen=True)
class ProxySummary:
    proxy: str
    version: str
    records: int
    ok: int
    unsupported: int
    error: int
    non_finite: int  # ok records whose score is NaN or infinite
    wall_total_s: float
    wall_median_s: float
    superseded: bool  # a newer version of the proxy is stored for the same run


@dataclass(frozen=True)
class RunSummary:
    benchmark: str
    dataset: str
    sample_seed: int
    batch_size: int
    seed: int
    proxies: list[ProxySummary]
    archs: int  # architectures with a record of any proxy
    complete: int  # architectures with a record of every current proxy
    devices: list[str]
    threads: list[int]

    @property
    def wall_total_s(self) -> float:
        return math.fsum(p.wall_total_s for p in self.proxies)

    def _timed_current(self) -> list[ProxySummary]:
        return [p for p in self.proxies if not p.superseded and math.isfinite(p.wall_median_s)]

    def time_to(self, target: int) -> float:
        """Proxy time until every current proxy has ``target`` records, at each proxy's median wall time."""
        return math.fsum(max(target - p.records, 0) * p.wall_median_s for p in self._timed_current())

    @property
    def per_arch_s(self) -> float:
        """Typical proxy time of one architecture: the sum of the current proxies' median wall times."""
        return math.fsum(p.wall_median_s for p in self._timed_current())


def _version_order(version: str) -> tuple[int, int | str]:
    return (0, int(version)) if version.isdigit() else (1, version)


def _proxy_summary(group: Group, superseded: bool) -> ProxySummary:
    records = list(group.records.values())
    statuses = [r.status for r in records]
    walls = [r.wall_s for r in records if math.isfinite(r.wall_s)]
    return ProxySummary(
        proxy=group.key.proxy, version=group.key.proxy_version, records=len(records),
        ok=statuses.count(STATUS_OK), unsupported=statuses.count(STATUS_UNSUPPORTED), error=statuses.count(STATUS_ERROR),
        non_finite=sum(1 for r in records if r.status == STATUS_OK and not math.isfinite(r.score)),
        wall_total_s=math.fsum(walls), wall_median_s=statistics.median(walls) if walls else math.nan,
        superseded=superseded,
    )


def summarize(store: ResultStore) -> list[RunSummary]:
    """One summary per run held in ``store``, sorted by benchmark, dataset, sample, batch and seed."""
    runs: dict[RunId, list[Group]] = defaultdict(list)
    for group in store.groups.values():
        k = group.key
        runs[(k.benchmark, k.dataset, k.sample_seed, k.batch_size, k.seed)].append(group)
    out = []
    for run_id in sorted(runs):
        groups = runs[run_id]
        newest: dict[str, Group] = {}
        for group in groups:
            held = newest.get(group.key.proxy)
            if held is None or _version_order(group.key.proxy_version) > _version_order(held.key.proxy_version):
                newest[group.key.proxy] = group
        current = set(map(id, newest.values()))
        proxies = sorted((_proxy_summary(g, id(g) not in current) for g in groups),
                         key=lambda p: (p.proxy, _version_order(p.version)))
        archs = set().union(*(g.records for g in groups))
        complete = set.intersection(*(set(g.records) for g in newest.values()))
        devices = sorted({str(g.provenance["device"]) for g in groups if "device" in g.provenance})
        threads = sorted({int(g.provenance["torch_threads"]) for g in groups if "torch_threads" in g.provenance})
        out.append(RunSummary(*run_id, proxies=proxies, archs=len(archs), complete=len(complete),
                              devices=devices, threads=threads))
    return out


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def format_run(run: RunSummary, target: int | None = None) -> list[str]:
    """The run's summary line (with the time to reach ``target`` architectures, if given) and its proxy table."""
    where = ", ".join(run.devices) or "device not recorded"
    if run.threads:
        where += f", {'/'.join(map(str, run.threads))} torch thread{'s' if run.threads != [1] else ''}"
    sample = "architecture list" if run.sample_seed == -1 else "search" if run.sample_seed == -2 else f"sample {run.sample_seed}"
    current = sum(not p.superseded for p in run.proxies)
    lines = [
        f"{run.benchmark}/{run.dataset} ({sample}, batch {run.batch_size}, seed {run.seed}): {_count(current, 'proxy', 'proxies')}, "
        f"{_count(run.archs, 'architecture', 'architectures')}, {run.complete:,} with every proxy; "
        f"{_duration(run.wall_total_s)} of proxy time ({where}), "
        f"{_duration(run.per_arch_s)} per architecture (sum of medians)",
        f"  {'proxy':<20} {'ver':>4} {'records':>7} {'ok':>6} {'unsup':>6} {'error':>6} {'nonfin':>6} "
        f"{'wall sum':>10} {'median':>9}",
    ]
    if target is not None:
        left = max(target - run.complete, 0)
        lines[0] += f"; to {target:,}: {left:,} more, about {_duration(run.time_to(target))}"
    for p in run.proxies:
        note = "  superseded" if p.superseded else ""
        median = "-" if math.isnan(p.wall_median_s) else f"{p.wall_median_s:.2f} s"
        lines.append(f"  {p.proxy:<20} {p.version:>4} {p.records:>7} {p.ok:>6} {p.unsupported:>6} {p.error:>6} "
                     f"{p.non_finite:>6} {_duration(p.wall_total_s):>10} {median:>9}{note}")
    return lines

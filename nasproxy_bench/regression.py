"""Correlation regression checks against a committed baseline (``nasproxy-bench check``).

The baseline file records a small fixed configuration and each proxy's SPR@All on it. A check
recomputes that configuration from scratch (a fresh temporary store, so the current code is
what runs) and fails if any proxy moved by more than the tolerance. It runs on one torch thread
(``CHECK_THREADS``): a trained proxy's scores depend on the thread count through the order of float
sums, and at the baseline's small n that moved GenNAS's SPR by 0.05 between 1 and 2 threads.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
import torch

from nasproxy_bench.config import RunConfig
from nasproxy_bench.errors import DataError, NasproxyError
from nasproxy_bench.execution.threads import torch_threads
from nasproxy_bench.report import summarize
from nasproxy_bench.runner import run
from nasproxy_bench.store import ResultStore

CHECK_THREADS = 1  # the same on every machine, whatever its core count; the workers' count too


@dataclass
class CheckConfig:
    benchmark: str = "nb201"
    dataset: str = "cifar10"
    proxies: list[str] = field(default_factory=lambda: [
        "params", "flops", "l2_norm", "synflow", "snip", "grad_norm", "plain", "fisher", "naswot", "jacob_cov",
        "epe_nas", "zen", "nn_mass",
    ])
    n: int = 100
    sample_seed: int = 0
    seeds: list[int] = field(default_factory=lambda: [0])
    batch_size: int = 32
    tolerance: float = 0.02


def compute(config: CheckConfig, data_root: Path) -> dict[str, float]:
    """SPR@All of every proxy of ``config``, computed from scratch."""
    with tempfile.TemporaryDirectory() as tmp, torch_threads(CHECK_THREADS):
        store_path = Path(tmp) / "check.h5"
        run(RunConfig(config.benchmark, config.dataset, list(config.proxies), n=config.n, sample_seed=config.sample_seed,
                      seeds=list(config.seeds), batch_size=config.batch_size, data_root=data_root, store=store_path),
            progress=False)
        summary = summarize(ResultStore(store_path), data_root)
    return {row.proxy: float(row.spearman_mean) for row in summary.itertuples()}


def _compute_all(configs: list[CheckConfig], data_root: Path, workers: int) -> list[dict[str, float]]:
    """``compute`` of each configuration, in order; with ``workers`` > 1 in spawned processes, costliest first."""
    if workers <= 1 or len(configs) <= 1:
        return [compute(c, data_root) for c in configs]
    order = sorted(range(len(configs)), key=lambda i: -_cost_guess(configs[i]))
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {i: pool.submit(compute, configs[i], data_root) for i in order}
        return [futures[i].result() for i in range(len(configs))]


def _cost_guess(config: CheckConfig) -> float:
    """A rough relative cost, to start the long entries first: GenNAS trains 100 steps per network."""
    per_arch = sum(100.0 if p.startswith("gennas") else 1.0 for p in config.proxies)
    return per_arch * config.n * len(config.seeds)


Baseline = list[tuple[CheckConfig, dict[str, float]]]


def entry_key(config: CheckConfig) -> tuple[str, str]:
    return config.benchmark, config.dataset


def load_baseline(path: Path) -> Baseline:
    """Every (configuration, SPR@All per proxy) entry of the baseline file.

    The file holds ``{"entries": [{"config": ..., "spearman": ...}, ...]}``, one entry per
    benchmark/dataset; a file of the first format (one top-level ``config``) is one entry.
    """
    try:
        data = json.loads(Path(path).read_text())
        entries = data["entries"] if "entries" in data else [data]
        return [(CheckConfig(**e["config"]), {k: float(v) for k, v in e["spearman"].items()}) for e in entries]
    except FileNotFoundError:
        raise DataError(f"no baseline at {path}; create it with 'nasproxy-bench check --baseline {path} --update'") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: malformed baseline ({exc}); recreate it with --update") from None


def write_baseline(path: Path, config: CheckConfig, values: dict[str, float]) -> None:
    """Add or replace the entry of ``config``'s benchmark/dataset; other entries are kept."""
    entries = load_baseline(path) if Path(path).exists() else []
    entries = [(c, v) for c, v in entries if entry_key(c) != entry_key(config)] + [(config, values)]
    entries.sort(key=lambda e: entry_key(e[0]))
    payload = {
        "entries": [{"config": asdict(c), "spearman": v} for c, v in entries],
        "torch_version": str(torch.__version__),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def compare(baseline: dict[str, float], current: dict[str, float], tolerance: float) -> pd.DataFrame:
    rows = []
    for proxy in sorted(set(baseline) | set(current)):
        before, now = baseline.get(proxy, float("nan")), current.get(proxy, float("nan"))
        delta = now - before
        ok = abs(delta) <= tolerance or (pd.isna(before) and pd.isna(now))
        rows.append({"proxy": proxy, "baseline": before, "now": now, "delta": delta, "status": "ok" if ok else "REGRESSED"})
    return pd.DataFrame(rows)


def check(
    baseline_path: Path, data_root: Path, *, update: bool = False, new_entry: CheckConfig | None = None,
    benchmark: str | None = None, workers: int = 1,
) -> pd.DataFrame:
    """Recompute every entry (or those of ``benchmark``) and compare; raise if anything moved too far.

    ``update`` rewrites the recomputed entries; ``new_entry`` adds (or replaces) one entry.
    ``workers`` > 1 computes entries in that many processes at once (each on one torch thread,
    so the values are those of a sequential check).
    """
    if new_entry is not None:
        values = compute(new_entry, data_root)
        write_baseline(baseline_path, new_entry, values)
        return _tagged(new_entry, compare(values, values, new_entry.tolerance))
    if update and not Path(baseline_path).exists():
        entries: Baseline = [(CheckConfig(), {})]
    else:
        entries = load_baseline(baseline_path)
    if benchmark is not None:
        entries = [e for e in entries if e[0].benchmark == benchmark]
        if not entries:
            raise NasproxyError(f"{baseline_path} has no entry for {benchmark}; add one with --add")
    tables = []
    for (config, baseline), current in zip(entries, _compute_all([c for c, _ in entries], data_root, workers), strict=True):
        if update:
            write_baseline(baseline_path, config, current)
            baseline = current
        tables.append(_tagged(config, compare(baseline, current, config.tolerance)))
    table = pd.concat(tables, ignore_index=True)
    if (table["status"] != "ok").any():
        raise NasproxyError(
            f"correlation regression beyond the tolerance:\n{table.to_string(index=False)}\n"
            "if the change is intended, rerun with --update and commit the new baseline"
        )
    return table


def _tagged(config: CheckConfig, table: pd.DataFrame) -> pd.DataFrame:
    table.insert(0, "benchmark", f"{config.benchmark}/{config.dataset}")
    return table

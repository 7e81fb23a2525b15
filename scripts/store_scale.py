"""Measure the result store at scale with synthetic records written through its public API.

Default: every NB201 cell (15,625) x 20 registered proxies x 3 datasets = 937,500 records,
checkpointed every 50,000 records (a long run checkpoints every minute, so the store is
rewritten/extended many times while it grows). Prints one JSON object with:

- write: seconds spent in ``add`` (journal), in checkpoints (first, last, total), records/s overall;
- size: HDF5 file size in bytes after the final checkpoint;
- resume: a child process adds ``--crash-records`` more records and dies (``os._exit``) before
  checkpointing; we time reopening the store for writing (loads the file, replays and folds the
  journal) and computing what is left to do for every run key, as ``run`` does;
- report: ``write_reports`` (correlation tables) and, with ``--survey``, the whole ``report`` command.

Usage: ``nice -n 12 env OMP_NUM_THREADS=1 NASPROXY_DATA=/work/shared .venv/bin/python scripts/store_scale.py --out results/scale``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from nasproxy_bench.adapters.nb201 import NB201Arch
from nasproxy_bench.adapters.nb201.network import OPS
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.registry import proxies
from nasproxy_bench.store import Record, ResultStore, RunKey

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def all_archs(limit: int) -> list[str]:
    return [str(NB201Arch(ops)) for ops in itertools.islice(itertools.product(OPS, repeat=6), limit)]


def run_keys(n_proxies: int, n_datasets: int) -> list[RunKey]:
    specs = sorted((s for s in proxies().values() if not s.derived_from and s.family != "gennas"), key=lambda s: s.name)
    if len(specs) < n_proxies:
        raise SystemExit(f"only {len(specs)} plain proxies are registered")
    return [RunKey("nb201", ds, s.name, s.version, 0, 64, 0) for ds in DATASETS[:n_datasets] for s in specs[:n_proxies]]


def records(keys: list[RunKey], archs: list[str], seed: int):
    rng = random.Random(seed)
    for arch in archs:  # arch-major, like a run: every proxy of one network, then the next network
        for key in keys:
            yield key, arch, Record(rng.gauss(0.0, 1.0), rng.random() * 0.01)


def write(path: Path, keys: list[RunKey], archs: list[str], every: int) -> dict:
    provenance = {"torch": "synthetic", "device": "cpu", "input_source": "synthetic"}
    add_s, checkpoints = 0.0, []
    start = time.perf_counter()
    with ResultStore(path) as store:
        t = time.perf_counter()
        for count, (key, arch, record) in enumerate(records(keys, archs, 0), start=1):
            store.add(key, arch, record, provenance)
            if count % every == 0:
                add_s += time.perf_counter() - t
                t = time.perf_counter()
                store.checkpoint()
                checkpoints.append(time.perf_counter() - t)
                t = time.perf_counter()
        add_s += time.perf_counter() - t
        t = time.perf_counter()
    checkpoints.append(time.perf_counter() - t)  # close() = the final checkpoint
    total = time.perf_counter() - start
    n = len(keys) * len(archs)
    periodic = checkpoints[:-1] or checkpoints
    return {"records": n, "total_s": round(total, 2), "records_per_s": round(n / total), "add_s": round(add_s, 2),
            "checkpoints": len(checkpoints), "checkpoint_total_s": round(sum(checkpoints), 2),
            "checkpoint_first_s": round(checkpoints[0], 3), "checkpoint_last_periodic_s": round(periodic[-1], 3),
            "checkpoint_median_s": round(statistics.median(checkpoints), 3), "checkpoint_max_s": round(max(checkpoints), 3),
            "checkpoint_s_each": [round(c, 2) for c in checkpoints],
            "file_bytes": path.stat().st_size, "store_bytes": store_bytes(path)}


def store_bytes(path: Path) -> int:
    """Main file plus segment files (format 2)."""
    segments = path.with_name(path.name + ".segments")
    return path.stat().st_size + (sum(p.stat().st_size for p in segments.iterdir()) if segments.is_dir() else 0)


def crash_child(path: Path, n: int) -> None:
    """Add ``n`` records of a fresh proxy-less key set, then die without checkpointing."""
    keys = [RunKey("nb201", "cifar10", "crashed_proxy", "1", 0, 64, seed) for seed in range(1, 4)]
    store = ResultStore(path).open_for_writing()
    for _, (key, arch, record) in zip(range(n), records(keys, all_archs(15625), 1), strict=False):
        store.add(key, arch, record, {})
    os._exit(0)  # like kill -9: no checkpoint, lock released by the OS


def resume(path: Path, keys: list[RunKey], archs: list[str], crash_records: int) -> dict:
    subprocess.run([sys.executable, __file__, "--crash-child", str(path), "--crash-records", str(crash_records)], check=True)
    journal = path.with_name(path.name + ".journal")
    journal_bytes = journal.stat().st_size
    t = time.perf_counter()
    store = ResultStore(path).open_for_writing()
    opened = time.perf_counter() - t
    todo = sum(1 for key in keys for a in archs if a not in store.done(key))
    total = time.perf_counter() - t
    store.close()
    return {"journal_records": crash_records, "journal_bytes": journal_bytes, "open_for_writing_s": round(opened, 2),
            "resume_total_s": round(total, 2), "todo_after_resume": todo, "store_bytes_after": store_bytes(path)}


def read_only_open(path: Path) -> float:
    t = time.perf_counter()
    ResultStore(path)
    return round(time.perf_counter() - t, 2)


def report(path: Path, out: Path, survey: bool) -> dict:
    from nasproxy_bench.report import write_reports

    data_root = resolve_data_root()
    t = time.perf_counter()
    write_reports(path, data_root, out / "reports")
    result = {"write_reports_s": round(time.perf_counter() - t, 2)}
    if survey:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nasproxy_bench.cli", "report", "--store", str(path), "--reports", str(out / "survey")],
                       check=True, stdout=subprocess.DEVNULL)
        result["report_command_s"] = round(time.perf_counter() - t, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/store_scale"))
    parser.add_argument("--archs", type=int, default=15625)
    parser.add_argument("--proxies", type=int, default=20)
    parser.add_argument("--datasets", type=int, default=3)
    parser.add_argument("--checkpoint-every", type=int, default=50_000, help="records between checkpoints")
    parser.add_argument("--crash-records", type=int, default=20_000)
    parser.add_argument("--survey", action="store_true", help="also time the whole 'report' command (figures, bootstrap)")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--crash-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.crash_child:
        crash_child(args.crash_child, args.crash_records)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "scale.h5"
    for stale in args.out.glob("scale.h5*"):
        stale.unlink()
    keys, archs = run_keys(args.proxies, args.datasets), all_archs(args.archs)
    result = {"write": write(path, keys, archs, args.checkpoint_every)}
    print(json.dumps(result), flush=True)
    result["read_only_open_s"] = read_only_open(path)
    result["resume"] = resume(path, keys, archs, args.crash_records)
    print(json.dumps(result), flush=True)
    if not args.no_report:
        result["report"] = report(path, args.out, args.survey)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

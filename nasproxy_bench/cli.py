"""``nasproxy-bench``: a thin command line over the library."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nasproxy_bench import __version__
from nasproxy_bench.argtypes import positive_int, seed_list
from nasproxy_bench.config import DEFAULT_REPORTS, DEFAULT_STORE, RunConfig, resolve_data_root
from nasproxy_bench.errors import DataError, MissingGroundTruth, NasproxyError, UnknownNameError
from nasproxy_bench.store_archive import unpack_arguments

if TYPE_CHECKING:
    from nasproxy_bench.benchmark import Benchmark
    from nasproxy_bench.store import ResultStore

SURVEY_STORE = Path("results/survey.h5")
SURVEY_REPORTS = DEFAULT_REPORTS / "survey"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-root", help="data folder (default: $NASPROXY_DATA, else ./data)")
    common.add_argument("--store", type=Path, default=DEFAULT_STORE, help=f"HDF5 result store (default {DEFAULT_STORE})")
    common.add_argument("--plugin", action="append", default=[], help="import this module first (registers user proxies/benchmarks)")
    common.add_argument("--trust-pickles", action="store_true", help="allow unrestricted unpickling of benchmark files (runs their code)")

    parser = argparse.ArgumentParser(prog="nasproxy-bench", description="Zero-cost NAS proxy benchmark suite.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", parents=[common], help="list benchmarks, datasets and proxies")

    run = sub.add_parser("run", parents=[common], help="score proxies on a seeded architecture sample")
    run.add_argument("--benchmark", help="benchmark name (see 'list')")
    run.add_argument("--dataset", help="dataset of the benchmark (see 'list')")
    run.add_argument("--proxies", help="comma-separated proxy names, or 'all' (default all; with --all: the per-space "
                     "defaults of nasproxy_bench/run_all.py)")
    run.add_argument("--all", action="store_true", help="every benchmark x dataset with data here (see README: run --all)")
    run.add_argument("--n", type=positive_int, default=1000, help="sample size (default 1000)")
    run.add_argument("--full", action="store_true", help="evaluate every architecture instead of a sample")
    run.add_argument("--arch-list", type=Path, help="evaluate these architectures: a text file (one per line) or a CSV "
                     "with an 'arch' or 'arch_str' column, optionally filtered by its 'dataset' column")
    run.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    run.add_argument("--seeds", type=seed_list, default=[0], help="init/batch seeds, e.g. 0-4 or 0,2 (default 0)")
    run.add_argument("--batch-size", type=positive_int, help="proxy minibatch size (default 64; --all: per-space defaults)")
    run.add_argument("--input-size", type=positive_int,
                     help="feed SIZExSIZE inputs: runs the dataset's reduced-input variant '<dataset>-SIZE' (e.g. NDS imagenet-32)")
    run.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    run.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="also write reports here")
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--retry-errors", action="store_true",
                     help="score again the architectures whose stored record is an error (e.g. after a fix); "
                          "ok and unsupported records are kept")
    run.add_argument("--dry-run", action="store_true", help="with --all: print the plan and cost estimate, compute nothing")
    run.add_argument("--memory-limit", type=float, metavar="GIB",
                     help="cap the address space of this process and its local workers (Linux RLIMIT_AS): an evaluation "
                          "that needs more records an error (rerun later with --retry-errors) instead of the OS killing "
                          "the run at that architecture every time it resumes")
    run.add_argument("--checkpoint-every", type=float, default=60.0,
                     help="seconds between store checkpoints (default 60; inf: only at the end, the journal keeps every record)")
    run.add_argument("--workers", type=positive_int, default=1,
                     help="worker processes (default 1: everything in this process); only this process writes the store")
    run.add_argument("--executor", choices=["local", "ray"], default="local",
                     help="local processes (default) or Ray actors (needs the 'ray' extra); --workers sets how many")
    run.add_argument("--address", help="with --executor ray: a Ray cluster to join (auto, ray://host:10001); default a local Ray")
    run.add_argument("--gpus-per-worker", type=float,
                     help="with --device cuda: GPU share per worker, e.g. 0.25 = 4 workers per GPU (Ray); "
                          "default one GPU per Ray actor, pool workers round-robin over the GPUs")

    report = sub.add_parser("report", parents=[common], help="write correlation tables from the store")
    report.add_argument("--reports", type=Path, default=DEFAULT_REPORTS)
    report.add_argument("--top", type=float, default=5.0, help="top-k percent for @Top metrics (default 5)")

    survey = sub.add_parser("survey", parents=[common],
                            help="regenerate the zero-shot NAS survey's figures and tables into reports/survey/ "
                                 "(computes missing scores first)")
    survey.set_defaults(store=SURVEY_STORE)
    survey.add_argument("--reports", type=Path, default=SURVEY_REPORTS, help=f"output folder (default {SURVEY_REPORTS})")
    survey.add_argument("--top", type=float, default=5.0, help="top-k percent of the whole space for @Top (default 5)")
    survey.add_argument("--nb201-n", type=int, default=100,
                        help="NB201 (and imported NATS-sss) sample size per dataset (default 100; 0: leave out)")
    survey.add_argument("--seeds", type=seed_list, default=[0, 1, 2, 3, 4], help="init/batch seeds (default 0,1,2,3,4)")
    survey.add_argument("--tnb-n", type=int, default=20, help="TransNAS-Bench-101 micro sample size per task (default 20; 0: leave out)")
    survey.add_argument("--no-run", action="store_true", help="draw from the store as it is; compute nothing")
    survey.add_argument("--no-progress", action="store_true")

    imp = sub.add_parser("import", parents=[common], help="normalize official benchmark files into the data root")
    imp.add_argument("benchmark", help="benchmark name (see 'list')")
    imp.add_argument("--source", type=Path, required=True, help="official file or folder, e.g. NATS-tss-v1_0-3ffb9-simple/")
    imp.add_argument("--hp", help="NATS training schedule to read (nb201: 12 or 200, default 200; nats_sss: 01, 12 or 90, default 90)")
    imp.add_argument("--force", action="store_true", help="replace an existing table in the data root")

    verify = sub.add_parser("verify", parents=[common], help="check built networks against the official params/FLOPs")
    verify.add_argument("benchmark", help="benchmark name (see 'list')")
    verify.add_argument("--stride", type=positive_int, default=1, help="check every k-th architecture (default all)")
    verify.add_argument("--flops", action="store_true", help="also check FLOPs (slower)")
    speed = sub.add_parser("bench", parents=[common], help="measure proxy time relative to one forward+backward")
    speed.add_argument("--benchmark", default="nb201")
    speed.add_argument("--dataset", default="cifar10")
    speed.add_argument("--proxies", default="all")
    speed.add_argument("--n", type=positive_int, default=50)
    speed.add_argument("--seed", type=int, default=0)
    speed.add_argument("--batch-size", type=positive_int, default=64)
    speed.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    speed.add_argument("--out", type=Path, default=DEFAULT_REPORTS / "speed.md")
    compare = sub.add_parser("compare", parents=[common], help="rank agreement of our scores with a reference table")
    compare.add_argument("--reference", type=Path, required=True, help="e.g. shared/reference/naslib_suitezero_nb201_subset.csv")
    compare.add_argument("--out", type=Path, default=DEFAULT_REPORTS / "reference_comparison.md")
    compare.add_argument("--benchmark", default="nb201", help="benchmark whose ground truth the SPR columns use (default nb201)")
    one = sub.add_parser("score", parents=[common], help="score one architecture string (nothing is stored)")
    one.add_argument("--benchmark", default="nb201")
    one.add_argument("--dataset", default="cifar10")
    one.add_argument("--arch", required=True, help="canonical architecture string, e.g. an NB201 '|op~0|+...' string")
    one.add_argument("--proxies", default="all")
    one.add_argument("--seed", type=int, default=0)
    one.add_argument("--batch-size", type=positive_int, default=64)
    one.add_argument("--device", default="cpu", choices=["cpu", "cuda"])

    diff = sub.add_parser("diff", help="compare two result stores record by record (exit 2 if they differ)")
    diff.add_argument("first", type=Path, help="a result store (read only)")
    diff.add_argument("second", type=Path, help="another result store (read only)")
    diff.add_argument("--rtol", type=float, default=0.0, help="relative tolerance for scores (default 0: exactly equal)")
    diff.add_argument("--show", type=int, default=10, help="print up to this many differing records (default 10)")
    diff.set_defaults(plugin=[])  # reads stores only: no plugins, no data root

    info = sub.add_parser("info", help="what result stores hold: per run, architectures with every proxy; per proxy, "
                          "records by status and wall time")
    info.add_argument("stores", type=Path, nargs="+", help="result stores to read (plain or packed .h5.xz; left unchanged)")
    info.add_argument("--target", type=positive_int, help="architectures each run is to reach: print the estimated "
                      "proxy time left (the stored median wall times, one process)")
    info.set_defaults(plugin=[])  # reads stores only

    merge = sub.add_parser("merge", parents=[common], help="copy the records of other stores into --store")
    merge.add_argument("sources", type=Path, nargs="+", help="result stores to read (left unchanged)")

    from nasproxy_bench.gennas.cli import add_commands as add_gennas_commands

    add_gennas_commands(sub, common)
    chk = sub.add_parser("check", parents=[common], help="fail if proxy correlations drift from a baseline")
    chk.add_argument("--baseline", type=Path, default=DEFAULT_REPORTS / "baseline.json")
    chk.add_argument("--update", action="store_true", help="rewrite the baseline entries from the current code")
    chk.add_argument("--benchmark", help="check (or --update) only this benchmark's entries")
    chk.add_argument("--add", metavar="BENCHMARK/DATASET", help="add or replace the entry of this benchmark/dataset, "
                     "computed now with --proxies, --n, --batch-size")
    chk.add_argument("--proxies", help="with --add: comma-separated cheap proxies")
    chk.add_argument("--n", type=positive_int, default=50, help="with --add: sample size (default 50)")
    chk.add_argument("--batch-size", type=positive_int, default=32, help="with --add: batch size (default 32)")
    chk.add_argument("--workers", type=positive_int, default=1,
                     help="compute this many entries at once, each in its own one-thread process (same values)")
    data = sub.add_parser("data", parents=[common], help="official data files: status, download")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    status = data_sub.add_parser("status", parents=[common], help="per benchmark: expected files, present/missing, size, SHA-256")
    status.add_argument("name", nargs="?", default="all", help="benchmark or data group (default all)")
    status.add_argument("--no-checksums", action="store_true", help="skip SHA-256 of present files (faster on large files)")
    fetch = data_sub.add_parser("download", parents=[common], help="fetch, verify, unpack and import the official files")
    fetch.add_argument("name", help="benchmark or data group (see 'data status'), or 'all'")
    fetch.add_argument("--optional", action="store_true", help="also fetch files marked optional (alternative sources)")
    fetch.add_argument("--no-import", action="store_true", help="only fetch and verify")
    fetch.add_argument("--no-progress", action="store_true")
    from nasproxy_bench.search.command import add_parser as add_search_parser

    add_search_parser(sub, common)
    return parser


def cmd_score(args: argparse.Namespace) -> None:
    from nasproxy_bench.proxies.base import ProxyContext
    from nasproxy_bench.registry import get_benchmark
    from nasproxy_bench.runner import build_model, evaluate, resolve_device, resolve_proxies, task_batches

    data_root = resolve_data_root(args.data_root)
    bench = get_benchmark(args.benchmark)(data_root, trust_pickles=args.trust_pickles)
    dataset = bench.dataset(args.dataset)
    try:
        arch = bench.canonical(bench.parse(args.arch))
    except ValueError as exc:
        raise NasproxyError(f"malformed {bench.name} architecture: {exc}") from None
    specs = resolve_proxies([p.strip() for p in args.proxies.split(",") if p.strip()])
    device = resolve_device(args.device)
    n_batches = max((s.n_batches for s in specs if s.needs_data), default=0)
    batches = [b.to(device) for b in task_batches(dataset, data_root, args.seed, args.batch_size, n_batches)]
    model = build_model(bench, arch, dataset.name, args.seed, device)
    ctx = ProxyContext(bench, arch, dataset, model, batches, args.seed, device, frozenset(s.name for s in specs))
    for spec in specs:
        record = evaluate(spec, ctx)
        note = f" ({record.status}: {record.message})" if record.status != "ok" else ""
        print(f"{spec.name:12s} {record.score:.6g}{note}")


def cmd_check(args: argparse.Namespace) -> None:
    from nasproxy_bench.regression import CheckConfig, check

    new_entry = None
    if args.add:
        benchmark, sep, dataset = args.add.partition("/")
        if not sep or not args.proxies:
            raise NasproxyError("--add needs BENCHMARK/DATASET and --proxies, e.g. --add nb101/cifar10 --proxies params,synflow")
        new_entry = CheckConfig(benchmark, dataset, [p.strip() for p in args.proxies.split(",") if p.strip()],
                                n=args.n, batch_size=args.batch_size)
    table = check(args.baseline, resolve_data_root(args.data_root), update=args.update, new_entry=new_entry, workers=args.workers,
                  benchmark=args.benchmark)
    print(table.to_string(index=False))
    print(f"baseline {'updated' if args.update else 'matched'}: {args.baseline}")


def cmd_compare(args: argparse.Namespace) -> None:
    from nasproxy_bench.compare import compare_with_reference, to_markdown

    frame = compare_with_reference(args.store, args.reference, resolve_data_root(args.data_root), args.benchmark)
    text = to_markdown(frame, args.reference)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    frame.to_csv(args.out.with_suffix(".csv"), index=False)
    print(text)


def cmd_bench(args: argparse.Namespace) -> None:
    import platform

    import torch
    from tqdm import tqdm

    from nasproxy_bench.speed import measure_speed

    result = measure_speed(
        resolve_data_root(args.data_root), args.benchmark, args.dataset, args.proxies.split(","), n=args.n,
        seed=args.seed, batch_size=args.batch_size, device=args.device, progress=lambda xs: tqdm(xs, unit="arch"),
    )
    header = (
        f"# Proxy speed: {args.benchmark}/{args.dataset}, {args.n} architectures (sample seed {args.seed}), "
        f"batch {args.batch_size}, {args.device} ({platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} threads), torch {torch.__version__}"
    )
    text = result.to_markdown(header)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


def cmd_list(args: argparse.Namespace) -> None:
    from nasproxy_bench.registry import benchmarks, proxies

    data_root = resolve_data_root(args.data_root)
    print("benchmarks:")
    for name, cls in sorted(benchmarks().items()):
        print(f"  {name:10s} {cls.description}")
        counts = cls(data_root).entry_counts()
        for ds in cls.datasets.values():
            metrics = ", ".join(f"{m.name} ({m.direction.value} is better)" for m in ds.metrics)
            count = f"; {counts[ds.name]}" if ds.name in counts else ""
            print(f"      {ds.name:16s} {ds.task.value}; input {ds.input_shape}, {ds.num_outputs} outputs; {metrics}{count}")
    print("proxies:")
    for name, spec in sorted(proxies().items()):
        tasks = ",".join(sorted(t.value for t in spec.tasks))
        opt_in = " [opt-in: not in 'all', ask by name]" if spec.opt_in else ""
        print(
            f"  {name:12s} v{spec.version} {spec.family:10s} {spec.direction.value} is better; "
            f"tasks: {tasks}; {spec.description}{opt_in}"
        )


def read_arch_list(path: Path, dataset: str | None) -> list[str]:
    import pandas as pd

    if not path.is_file():
        raise DataError(f"missing architecture list {path}")
    if path.suffix != ".csv":
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    frame = pd.read_csv(path)
    column = next((c for c in ("arch", "arch_str") if c in frame.columns), None)
    if column is None:
        raise DataError(f"{path}: no 'arch' or 'arch_str' column")
    if "dataset" in frame.columns and dataset:
        frame = frame[frame["dataset"] == dataset]
    return frame[column].astype(str).tolist()


def _run_configs(args: argparse.Namespace, data_root: Path) -> list[RunConfig]:
    from nasproxy_bench.registry import benchmarks, get_benchmark

    proxies = [p.strip() for p in (args.proxies or "all").split(",") if p.strip()]
    common = dict(
        proxies=proxies, n=None if args.full else args.n, sample_seed=args.seed, seeds=args.seeds,
        batch_size=args.batch_size or 64, device=args.device, data_root=data_root, store=args.store,
        trust_pickles=args.trust_pickles, checkpoint_s=args.checkpoint_every,
        workers=args.workers, plugins=list(args.plugin), executor=args.executor, address=args.address,
        gpus_per_worker=args.gpus_per_worker, retry_errors=args.retry_errors,
    )
    if args.arch_list is not None and args.all:
        raise NasproxyError("--arch-list works with one --benchmark/--dataset, not with --all")
    if args.arch_list is not None:
        common["arch_list"] = read_arch_list(args.arch_list, args.dataset)
    if args.all and args.input_size is not None:
        raise NasproxyError("--input-size works with one --benchmark/--dataset, not with --all")
    if args.all:
        return [RunConfig(name, ds, **common) for name, cls in sorted(benchmarks().items()) for ds in cls.datasets]
    if not args.benchmark or not args.dataset:
        raise NasproxyError("run needs --benchmark and --dataset (or --all); see 'nasproxy-bench list'")
    bench = get_benchmark(args.benchmark)(data_root)
    bench.dataset(args.dataset)  # validates both names
    dataset = args.dataset if args.input_size is None else with_input_size(bench, args.dataset, args.input_size)
    return [RunConfig(args.benchmark, dataset, **common)]


def with_input_size(bench: Benchmark, dataset: str, size: int) -> str:
    """The dataset of ``bench`` that is ``dataset`` fed ``size`` x ``size`` inputs (``--input-size``)."""
    if bench.dataset(dataset).input_shape[-1] == size:
        return dataset
    name = f"{dataset}-{size}"
    if name in bench.datasets:
        return name
    offered = [str(d.input_shape[-1]) for n, d in bench.datasets.items() if n == dataset or n.startswith(f"{dataset}-")]
    raise UnknownNameError(f"--input-size for {bench.name}/{dataset}", str(size), offered)


def cmd_run(args: argparse.Namespace) -> None:
    from nasproxy_bench.report import ground_truth_gaps, write_reports
    from nasproxy_bench.runner import run
    from nasproxy_bench.store import ResultStore

    data_root = resolve_data_root(args.data_root)
    if args.memory_limit is not None:
        from nasproxy_bench.memory import limit_address_space

        limit_address_space(args.memory_limit)
    if args.all:
        from nasproxy_bench.run_all import cmd_run_all

        cmd_run_all(_run_configs(args, data_root), data_root, args)
        return
    for config in _run_configs(args, data_root):
        try:
            summary = run(config, progress=not args.no_progress)
        except DataError as exc:
            if not args.all:
                raise
            print(f"skipped {config.benchmark}/{config.dataset}: {exc}", file=sys.stderr)
            continue
        print(
            f"{config.benchmark}/{config.dataset}: {summary.computed} scores computed, "
            f"{summary.skipped} architectures already in {config.store}, {summary.errors} proxy errors, "
            f"peak resident memory {summary.peak_rss_mib:.0f} MiB ({summary.settled_rss_mib:.0f} MiB between architectures)"
        )
    for message in ground_truth_gaps(ResultStore(args.store), data_root).values() if args.store.exists() else ():
        print(f"note: {message}")
    try:
        for path in write_reports(args.store, data_root, args.reports):
            print(f"wrote {path}")
    except MissingGroundTruth:
        return  # nothing in the store can be correlated here; the note above says why
    print("for figures, bootstrap intervals, Pareto, best-found and retrieval tables: nasproxy-bench report")


def cmd_report(args: argparse.Namespace) -> None:
    from nasproxy_bench.report import ground_truth_gaps
    from nasproxy_bench.store import ResultStore, require_store
    from nasproxy_bench.survey import write_survey

    require_store(args.store)
    data_root = resolve_data_root(args.data_root)
    page = write_survey(args.store, data_root, args.reports, top_percent=args.top, command="nasproxy-bench report")
    for message in ground_truth_gaps(ResultStore(args.store), data_root).values():
        print(f"note: {message}")
    print(f"wrote {args.reports}/ (index: {page})")


def cmd_survey(args: argparse.Namespace) -> None:
    from nasproxy_bench.report import ground_truth_gaps
    from nasproxy_bench.store import ResultStore, require_store
    from nasproxy_bench.survey import write_survey
    from nasproxy_bench.survey_plan import default_plan, run_plan

    data_root = resolve_data_root(args.data_root)
    plan = default_plan(data_root, args.store, nb201_n=args.nb201_n, seeds=tuple(args.seeds), tnb_n=args.tnb_n)
    if not args.no_run:
        computed = run_plan(plan, progress=not args.no_progress)
        print(f"{computed} scores computed into {args.store} ({len(plan.runs)} runs of the survey plan)")
    require_store(args.store)
    page = write_survey(args.store, data_root, args.reports, top_percent=args.top)
    for message in [*plan.missing, *ground_truth_gaps(ResultStore(args.store), data_root).values()]:
        print(f"note: {message}")
    print(f"wrote {args.reports}/ (index: {page})")


def cmd_diff(args: argparse.Namespace) -> None:
    from nasproxy_bench.store_diff import diff_stores

    store_a, store_b = (_existing_store(args, path) for path in (args.first, args.second))
    if args.rtol < 0:
        raise NasproxyError(f"--rtol must be >= 0, got {args.rtol}")
    result = diff_stores(store_a, store_b, rtol=args.rtol)
    for (path, arch), mine, theirs in result.different[: args.show]:
        print(f"differs: {path} {arch}: {mine.score!r} ({mine.status}) vs {theirs.score!r} ({theirs.status})")
    for label, keys in (("only in the first", result.only_a), ("only in the second", result.only_b)):
        for path, arch in keys[: args.show]:
            print(f"{label}: {path} {arch}")
    first, second = _shown(args, args.first), _shown(args, args.second)
    if not result.identical:
        raise NasproxyError(f"{first} and {second} differ: {result.summary()}")
    print(f"{first} and {second} hold the same records: {result.summary()}")


def cmd_info(args: argparse.Namespace) -> None:
    from nasproxy_bench.store_info import format_run, summarize

    stores = [_existing_store(args, path) for path in args.stores]
    for path, store in zip(args.stores, stores, strict=True):
        runs = summarize(store)
        print(f"{_shown(args, path)}: {len(runs)} run(s), {store.record_count():,} records")
        for run in runs:
            print("\n".join(format_run(run, args.target)))
        for name in store.damaged_groups:
            print(f"damaged (unreadable, kept as it is by writers): {name}")


def _shown(args: argparse.Namespace, path: Path) -> Path:
    """The path as the user gave it (a packed store's original, not its temporary unpacked copy)."""
    return getattr(args, "packed_originals", {}).get(path, path)


def _existing_store(args: argparse.Namespace, path: Path) -> ResultStore:
    """The store at ``path``, read once; a running store counts though it may have only its journal or segments so far."""
    from nasproxy_bench.store import ResultStore

    store = ResultStore(path)
    if not store.exists:
        raise DataError(f"no result store at {_shown(args, path)}; check the path")
    return store


def cmd_merge(args: argparse.Namespace) -> None:
    from nasproxy_bench.store import ResultStore

    sources = []
    for source in args.sources:
        if source.resolve() == args.store.resolve():
            raise NasproxyError(f"{source} is the destination --store itself; name another store to merge from")
        sources.append(_existing_store(args, source))
    with ResultStore(args.store) as dest:
        for source, store in zip(args.sources, sources, strict=True):
            result = dest.merge_from(store)
            line = f"{_shown(args, source)}: {result.added} records added to {args.store}, {result.identical} already there"
            if result.conflicts:
                line += f", {result.conflicts} held with different scores (kept ours; first: {result.first_conflict})"
            print(line)


def cmd_import(args: argparse.Namespace) -> None:
    from nasproxy_bench.registry import get_benchmark
    from nasproxy_bench.tables import write_table

    bench = get_benchmark(args.benchmark)(resolve_data_root(args.data_root), trust_pickles=args.trust_pickles)
    options = {"hp": args.hp} if args.hp else {}
    # a family benchmark (e.g. nds) imports several tables at once
    many = getattr(bench, "import_tables", None)
    tables = many(args.source, **options) if many else [bench.import_table(args.source, **options)]
    for frame, out in tables:
        write_table(frame, out, force=args.force)
        print(f"wrote {len(frame)} architectures to {out}")


def cmd_verify(args: argparse.Namespace) -> None:
    from nasproxy_bench.registry import get_benchmark

    bench = get_benchmark(args.benchmark)(resolve_data_root(args.data_root), trust_pickles=args.trust_pickles)
    result = bench.verify(stride=args.stride, flops=args.flops)
    print(result.summary())
    if result.mismatches:
        raise NasproxyError(f"{len(result.mismatches)} mismatches, first: {result.mismatches[0]}")


def cmd_data(args: argparse.Namespace) -> None:
    from nasproxy_bench.datafiles import load_manifest, select_groups, status_lines

    data_root = resolve_data_root(args.data_root)
    groups = select_groups(load_manifest(), args.name)
    if args.data_command == "status":
        print("\n".join(status_lines(groups, data_root, checksums=not args.no_checksums)))
        return
    from nasproxy_bench.download import download_groups

    download_groups(groups, data_root, optional=args.optional, run_import=not args.no_import,
                    trust_pickles=args.trust_pickles, progress=not args.no_progress)


def cmd_search(args: argparse.Namespace) -> None:
    from nasproxy_bench.search.command import cmd_search as search

    search(args)


def cmd_gennas(args: argparse.Namespace) -> None:
    from nasproxy_bench.gennas.cli import cmd_gennas as run_gennas

    run_gennas(args)


COMMANDS = {
    "list": cmd_list, "run": cmd_run, "report": cmd_report, "compare": cmd_compare, "bench": cmd_bench,
    "check": cmd_check, "score": cmd_score, "import": cmd_import, "verify": cmd_verify, "merge": cmd_merge, "diff": cmd_diff,
    "info": cmd_info, "search": cmd_search, "data": cmd_data, "survey": cmd_survey,
    "gennas": cmd_gennas,
}


class Terminated(BaseException):  # not Exception: proxy-failure handlers must not record it as an error
    """SIGTERM arrived (a batch scheduler's time limit or preemption); unwinds like Ctrl-C so stores close cleanly."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        from nasproxy_bench.registry import load_plugin

        for module in args.plugin:
            load_plugin(module)
        with tempfile.TemporaryDirectory(prefix="nasproxy_unpacked_") as workdir:
            args.packed_originals = unpack_arguments(args, Path(workdir))  # NAME.h5.xz stores (docs/stores/) for reading
            COMMANDS[args.command](args)
    except NasproxyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of stdout went away (``| head``): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the interpreter's final flush must not fail too
        return 141
    except KeyboardInterrupt:
        print("interrupted: finished results are saved; rerun the same command to resume", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated (SIGTERM): finished results are saved; rerun the same command to resume", file=sys.stderr)
        return 143
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0


if __name__ == "__main__":
    sys.exit(main())

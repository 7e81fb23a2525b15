"""``nasproxy-bench``: a thin command line over the library."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from nasproxy_bench import __version__
from nasproxy_bench.config import DEFAULT_REPORTS, DEFAULT_STORE, RunConfig, resolve_data_root
from nasproxy_bench.errors import DataError, NasproxyError


def _int_list(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
    run.add_argument("--proxies", default="all", help="comma-separated proxy names, or 'all'")
    run.add_argument("--all", action="store_true", help="every benchmark x dataset x proxy")
    run.add_argument("--n", type=_positive_int, default=1000, help="sample size (default 1000)")
    run.add_argument("--full", action="store_true", help="evaluate every architecture instead of a sample")
    run.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    run.add_argument("--seeds", type=_int_list, default=[0], help="init/batch seeds, e.g. 0,1,2,3,4 (default 0)")
    run.add_argument("--batch-size", type=_positive_int, default=64)
    run.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    run.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="also write reports here")
    run.add_argument("--no-progress", action="store_true")
    run.add_argument("--checkpoint-every", type=float, default=60.0, help="seconds between store checkpoints (default 60)")

    report = sub.add_parser("report", parents=[common], help="write correlation tables from the store")
    report.add_argument("--reports", type=Path, default=DEFAULT_REPORTS)
    report.add_argument("--top", type=float, default=5.0, help="top-k percent for @Top metrics (default 5)")

    imp = sub.add_parser("import", parents=[common], help="normalize official benchmark files into the data root")
    imp.add_argument("benchmark", choices=["nb201"])
    imp.add_argument("--source", type=Path, required=True, help="NATS-tss-v1_0-3ffb9-simple folder or NAS-Bench-201 .pth")
    imp.add_argument("--hp", default="200", help="NATS training schedule to read (12 or 200; default 200)")

    verify = sub.add_parser("verify", parents=[common], help="check built networks against the official params/FLOPs")
    verify.add_argument("benchmark", choices=["nb201"])
    verify.add_argument("--stride", type=_positive_int, default=1, help="check every k-th architecture (default all)")
    verify.add_argument("--flops", action="store_true", help="also check FLOPs (slower)")
    return parser


def cmd_list(args: argparse.Namespace) -> None:
    from nasproxy_bench.registry import benchmarks, proxies

    print("benchmarks:")
    for name, cls in sorted(benchmarks().items()):
        print(f"  {name:10s} {cls.description}")
        for ds in cls.datasets.values():
            metrics = ", ".join(f"{m.name} ({m.direction.value} is better)" for m in ds.metrics)
            print(f"      {ds.name:16s} {ds.task.value}; input {ds.input_shape}, {ds.num_outputs} outputs; {metrics}")
    print("proxies:")
    for name, spec in sorted(proxies().items()):
        tasks = ",".join(sorted(t.value for t in spec.tasks))
        print(f"  {name:12s} v{spec.version} {spec.family:10s} {spec.direction.value} is better; tasks: {tasks}; {spec.description}")


def _run_configs(args: argparse.Namespace, data_root: Path) -> list[RunConfig]:
    from nasproxy_bench.registry import benchmarks, get_benchmark

    proxies = [p.strip() for p in args.proxies.split(",") if p.strip()]
    common = dict(
        proxies=proxies, n=None if args.full else args.n, sample_seed=args.seed, seeds=args.seeds,
        batch_size=args.batch_size, device=args.device, data_root=data_root, store=args.store,
        trust_pickles=args.trust_pickles, checkpoint_s=args.checkpoint_every,
    )
    if args.all:
        return [RunConfig(name, ds, **common) for name, cls in sorted(benchmarks().items()) for ds in cls.datasets]
    if not args.benchmark or not args.dataset:
        raise NasproxyError("run needs --benchmark and --dataset (or --all); see 'nasproxy-bench list'")
    get_benchmark(args.benchmark)(data_root).dataset(args.dataset)  # validates both names
    return [RunConfig(args.benchmark, args.dataset, **common)]


def cmd_run(args: argparse.Namespace) -> None:
    from nasproxy_bench.report import write_reports
    from nasproxy_bench.runner import run

    data_root = resolve_data_root(args.data_root)
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
            f"{summary.skipped} architectures already in {config.store}, {summary.errors} proxy errors"
        )
    for path in write_reports(args.store, data_root, args.reports):
        print(f"wrote {path}")


def cmd_report(args: argparse.Namespace) -> None:
    from nasproxy_bench.report import write_reports

    for path in write_reports(args.store, resolve_data_root(args.data_root), args.reports, top_percent=args.top):
        print(f"wrote {path}")


def cmd_import(args: argparse.Namespace) -> None:
    from nasproxy_bench.adapters.nb201 import TABLE
    from nasproxy_bench.adapters.nb201_import import import_nb201

    frame = import_nb201(args.source, hp=args.hp, trust_pickles=args.trust_pickles)
    out = resolve_data_root(args.data_root) / TABLE
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".csv.tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(out)
    print(f"wrote {len(frame)} architectures to {out}")


def cmd_verify(args: argparse.Namespace) -> None:
    from nasproxy_bench.adapters.nb201_verify import verify_costs

    result = verify_costs(resolve_data_root(args.data_root), stride=args.stride, flops=args.flops)
    print(result.summary())
    if result.mismatches:
        raise NasproxyError(f"{len(result.mismatches)} mismatches, first: {result.mismatches[0]}")


COMMANDS = {"list": cmd_list, "run": cmd_run, "report": cmd_report, "import": cmd_import, "verify": cmd_verify}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        from nasproxy_bench.registry import load_plugin

        for module in args.plugin:
            load_plugin(module)
        COMMANDS[args.command](args)
    except NasproxyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished results are saved; rerun the same command to resume", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

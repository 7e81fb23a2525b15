"""The ``nasproxy-bench gennas`` command group (tables, search-task, write-tasks)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from nasproxy_bench.config import resolve_data_root


def add_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    gennas = sub.add_parser("gennas", help="GenNAS: paper tables, proxy-task search, task files")
    group = gennas.add_subparsers(dest="gennas_command", required=True)

    tables = group.add_parser("tables", parents=[common], help="paper Tables 1 and 2 from the store, paper numbers beside ours")
    tables.add_argument("--benchmark", default="nb101", help="benchmark of Table 1 (paper: nb101)")
    tables.add_argument("--dataset", default="cifar10", help="dataset of Table 1 (paper: cifar10)")
    tables.add_argument("--task", type=Path, action="append", default=[], help="a searched task file (its row leaves out "
                        "the labelled architectures in its provenance); repeatable")
    tables.add_argument("--out", type=Path, default=Path("reports/gennas_tables.md"))

    search = group.add_parser("search-task", parents=[common], help="search a proxy task by regularized evolution")
    search.add_argument("--benchmark", default="nb101")
    search.add_argument("--dataset", default="cifar10")
    search.add_argument("--archs", type=int, default=20, help="labelled architectures (default 20)")
    search.add_argument("--population", type=int, default=50)
    search.add_argument("--tournament", type=int, default=10)
    search.add_argument("--cycles", type=int, default=400)
    search.add_argument("--seed", type=int, default=0)
    search.add_argument("--method", choices=["evolution", "random"], default="evolution")
    search.add_argument("--log", type=Path, help="JSON-lines cache of every score (rerun with it to resume)")
    search.add_argument("--budget-s", type=float, help="stop after this many seconds (resume later with --log)")
    search.add_argument("--out", type=Path, help="task file to write (default results/gennas_task_<bench>_<dataset>_seed<k>.json)")

    write = group.add_parser("write-tasks", parents=[common], help="write the shipped presets and the 36 Table 1 cell tasks as files")
    write.add_argument("--out", type=Path, default=Path("results/gennas_tasks"))


def cmd_gennas(args: argparse.Namespace) -> None:
    {"tables": _tables, "search-task": _search_task, "write-tasks": _write_tasks}[args.gennas_command](args)


def _signed_truth(data_root: Path):
    from nasproxy_bench.registry import open_benchmark

    def truth_of(benchmark: str, dataset: str, metric: str | None = None):
        bench = open_benchmark(benchmark, data_root)
        return bench.ground_truth(dataset, metric) * bench.dataset(dataset).metric(metric).direction.sign()

    return truth_of


def _tables(args: argparse.Namespace) -> None:
    from nasproxy_bench.gennas.tables import all_tables
    from nasproxy_bench.gennas.task import load_task
    from nasproxy_bench.store import ResultStore

    searched = [load_task(p) for p in args.task]
    store = ResultStore(args.store)
    if not store.exists:  # still written: the paper's numbers with every cell of ours 'not run'
        print(f"warning: no result store at {args.store}: every measured cell reads 'not run' (check --store)", file=sys.stderr)
    truth_of = _signed_truth(resolve_data_root(args.data_root))
    text = all_tables(store, truth_of, table1_benchmark=args.benchmark, table1_dataset=args.dataset, searched=searched,
                      label_truth_of=truth_of)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


def _search_task(args: argparse.Namespace) -> None:
    from nasproxy_bench.errors import NasproxyError
    from nasproxy_bench.gennas.search_task import BudgetSpent, TaskSearchConfig, search_task, write_best
    from nasproxy_bench.registry import get_benchmark

    if args.archs < 3 or args.population < 1 or not 1 <= args.tournament <= args.population or args.cycles < 0:
        raise NasproxyError("need --archs >= 3, --population >= 1, 1 <= --tournament <= --population, --cycles >= 0")
    data_root = resolve_data_root(args.data_root)
    bench = get_benchmark(args.benchmark)(data_root, trust_pickles=args.trust_pickles)
    bench.dataset(args.dataset)
    log = args.log or Path(f"results/gennas_search_{args.benchmark}_{args.dataset}_seed{args.seed}.jsonl")
    log.parent.mkdir(parents=True, exist_ok=True)
    config = TaskSearchConfig(bench, args.dataset, data_root, n_archs=args.archs, population=args.population,
                              tournament=args.tournament, cycles=args.cycles, seed=args.seed, method=args.method,
                              log=log, budget_s=args.budget_s)
    start = time.perf_counter()
    try:
        trace, fitness = search_task(config)
    except BudgetSpent:
        print(f"budget spent; {log} holds every score so far: rerun the same command to continue")
        return
    out = args.out or Path(f"results/gennas_task_{args.benchmark}_{args.dataset}_seed{args.seed}.json")
    write_best(trace, fitness, config, out, time.perf_counter() - start)
    best, value = trace.best
    values = [v for _, v in trace.history]
    print(json.dumps({"evaluations": trace.evaluations, "best_fitness": value, "first_population_best": max(values[: args.population]),
                      "task_file": str(out), "log": str(log)}, indent=1))


def _write_tasks(args: argparse.Namespace) -> None:
    from nasproxy_bench.gennas.tables import write_table1_tasks
    from nasproxy_bench.gennas.task import PRESETS, load_preset, save_task

    paths = [save_task(load_preset(name), args.out / f"{name}.json") for name in PRESETS]
    paths += write_table1_tasks(args.out)
    print(f"wrote {len(paths)} task files to {args.out}; run them with --proxies gennas:{args.out}/<file>.json")

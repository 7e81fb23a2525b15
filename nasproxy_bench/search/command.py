"""``nasproxy-bench search``: end-to-end searches with a proxy as fitness, and their table."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from nasproxy_bench.argtypes import non_negative_int, seed_list
from nasproxy_bench.config import DEFAULT_REPORTS, resolve_data_root
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.runner import require_seeds
from nasproxy_bench.search.endtoend import ALGORITHMS, SearchConfig, SearchOutcome, outcomes_path, run_searches


def _init_seed(text: str) -> int | None:
    if text == "search":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'search', got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    search = sub.add_parser("search", parents=[common], help="end-to-end search with a proxy as fitness (or --table)")
    search.add_argument("--benchmark", default="nb201")
    search.add_argument("--dataset", default="cifar10")
    search.add_argument("--fitness", help="any registered proxy (see 'list'), e.g. naswot, synflow, gennas_combo")
    search.add_argument("--seeds", type=seed_list, default=[0], help="search seeds, e.g. 0-9 (default 0)")
    search.add_argument("--population", type=non_negative_int, default=50)
    search.add_argument("--tournament", type=non_negative_int, default=10)
    search.add_argument("--cycles", type=non_negative_int, default=400, help="mutations after the initial population")
    search.add_argument("--algorithm", choices=ALGORITHMS, default="re",
                        help="re (regularized evolution) or random (random search, population+cycles evaluations)")
    search.add_argument("--batch-size", type=non_negative_int, default=64)
    search.add_argument("--init-seed", type=_init_seed, default=0,
                        help="proxy init/minibatch seed of every search (default 0, as 'run'); 'search' = each search's own seed")
    search.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    search.add_argument("--checkpoint-every", type=float, default=60.0)
    search.add_argument("--table", action="store_true", help="write the end-to-end search table from recorded outcomes")
    search.add_argument("--outcomes", type=Path, action="append", default=[],
                        help="with --table: outcome files to read (default: the one beside --store); repeatable")
    search.add_argument("--out", type=Path, default=DEFAULT_REPORTS / "search_table3.md", help="with --table: output file")


def _mean_std(values: list[float]) -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "nan"
    std = float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0
    return f"{np.mean(finite):.2f} ± {std:.2f}"


def _print_outcome(o: SearchOutcome, recorded: bool) -> None:
    note = " (recorded earlier; not rerun)" if recorded else ""
    print(f"seed {o.seed}: {o.truth_metric} {o.found_truth:.2f} (best seen {o.best_truth_seen:.2f}, oracle {o.oracle_truth:.2f}); "
          f"{o.evaluations} evaluations, {o.distinct_archs} distinct, {o.computed} computed, {o.reused} reused, "
          f"{o.nonfinite} non-finite; {o.wall_s:.1f} s{note}; found {o.found_arch}")


def cmd_search(args: argparse.Namespace) -> None:
    if args.table:
        from nasproxy_bench.search.tables import write_search_table

        sources = args.outcomes or [outcomes_path(args.store)]
        print(write_search_table(sources, args.out))
        print(f"wrote {args.out}")
        return
    if not args.fitness:
        raise NasproxyError("search needs --fitness PROXY (any name of 'nasproxy-bench list'), or --table")
    if args.batch_size < 1:
        raise NasproxyError("--batch-size must be positive")
    require_seeds(args.seeds)
    data_root = resolve_data_root(args.data_root)
    configs = [
        SearchConfig(args.benchmark, args.dataset, args.fitness, seed=seed, population=args.population,
                     tournament=args.tournament, cycles=args.cycles, batch_size=args.batch_size, init_seed=args.init_seed,
                     algorithm=args.algorithm, device=args.device, data_root=data_root, store=args.store,
                     trust_pickles=args.trust_pickles, checkpoint_s=args.checkpoint_every)
        for seed in args.seeds
    ]
    outcomes = []
    for outcome, recorded in run_searches(configs):
        _print_outcome(outcome, recorded)
        outcomes.append(outcome)
    first = outcomes[0]
    print(f"{first.benchmark}/{first.dataset} fitness {first.fitness} ({first.algorithm}, {len(outcomes)} seeds): "
          f"{first.truth_metric} {_mean_std([o.found_truth for o in outcomes])} (oracle {first.oracle_truth:.2f}); "
          f"wall {_mean_std([o.wall_s for o in outcomes])} s; evaluations {_mean_std([o.evaluations for o in outcomes])}, "
          f"distinct {_mean_std([o.distinct_archs for o in outcomes])}")
    print(f"outcomes recorded in {outcomes_path(args.store)}; table: nasproxy-bench search --table --store {args.store}")

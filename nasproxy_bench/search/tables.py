"""The end-to-end search table (GenNAS Table 3) from recorded search outcomes.

``search_summary`` has one row per (benchmark, dataset, fitness, algorithm, settings): mean ±
std over seeds of the found architecture's ground truth, seeds, evaluations, distinct
architectures, wall time, the oracle, and the paper's number for the matching method.
``write_search_table`` writes it as Markdown (wide: rows = fitness, columns = benchmark/dataset)
plus the long CSV; ``gennas tables`` calls it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.search.endtoend import SearchOutcome, outcomes_path, read_outcomes
from nasproxy_bench.search.published import TABLE3, paper_method, paper_value
from nasproxy_bench.store import ResultStore

DEFAULT_SETTINGS = (50, 10, 400, 64)


def latest_outcomes(outcomes: Iterable[SearchOutcome]) -> list[SearchOutcome]:
    """One outcome per search (the last recorded where a search was recorded twice)."""
    return list({o.search_key(): o for o in outcomes}.values())


def _label(o: SearchOutcome) -> str:
    label = o.fitness if o.algorithm == "re" else f"{o.fitness} (random search)"
    if (o.population, o.tournament, o.cycles, o.batch_size) != DEFAULT_SETTINGS:
        label += f" [P{o.population} S{o.tournament} C{o.cycles} bs{o.batch_size}]"
    if o.init_seed != 0:
        label += " [init = search seed]" if o.init_seed == o.seed else f" [init seed {o.init_seed}]"
    return label


def _stats(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    return float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else math.nan  # one seed: no spread


def search_summary(outcomes: Iterable[SearchOutcome]) -> pd.DataFrame:
    """One row per search setting: mean ± std over its seeds (sample std, ddof=1)."""
    groups: dict[tuple, list[SearchOutcome]] = {}
    for o in latest_outcomes(outcomes):
        groups.setdefault((o.benchmark, o.dataset, _label(o), o.fitness_version), []).append(o)
    rows = []
    for (bench, dataset, label, version), group in sorted(groups.items()):
        group.sort(key=lambda o: o.seed)
        first = group[0]
        truth_mean, truth_std = _stats([o.found_truth for o in group])
        wall_mean, wall_std = _stats([o.wall_s for o in group])
        method = paper_method(first.fitness) if first.algorithm == "re" else None
        rows.append({
            "benchmark": bench, "dataset": dataset, "fitness": label, "fitness_version": version,
            "algorithm": first.algorithm, "truth_metric": first.truth_metric, "seeds": ",".join(str(o.seed) for o in group),
            "n_seeds": len(group), "found_truth_mean": truth_mean, "found_truth_std": truth_std,
            "best_seen_mean": _stats([o.best_truth_seen for o in group])[0], "oracle": first.oracle_truth,
            "evaluations": float(np.mean([o.evaluations for o in group])),
            "distinct_archs": float(np.mean([o.distinct_archs for o in group])),
            "computed": int(sum(o.computed for o in group)), "reused": int(sum(o.reused for o in group)),
            "nonfinite": int(sum(o.nonfinite for o in group)),
            "wall_s_mean": wall_mean, "wall_s_std": wall_std,
            "fitness_s_mean": _stats([o.fitness_s for o in group])[0],
            "cpu_s_mean": _stats([o.cpu_s for o in group])[0],
            "device": first.device, "surrogate_inputs": any(o.surrogate_inputs for o in group),
            "paper_method": method or "", "paper": paper_value(bench, dataset, method) if method else "",
            "paper_optimal": paper_value(bench, dataset, "Optimal"),
        })
    return pd.DataFrame(rows)


def _pm(mean: float, std: float, digits: int = 2) -> str:
    if not math.isfinite(mean):
        return "–"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if math.isfinite(std) else f"{mean:.{digits}f}"


def _num(value: float) -> str:
    return f"{value:.0f}" if math.isfinite(value) else "–"


def to_markdown(summary: pd.DataFrame) -> str:
    """Wide table (rows = fitness, column groups = benchmark/dataset), then the paper's other rows."""
    columns = sorted({(b, d) for b, d in zip(summary["benchmark"], summary["dataset"], strict=True)})
    lines = [
        "# End-to-end search (GenNAS Table 3)", "",
        "Found architecture = best fitness among all evaluations of a search; its ground truth is the benchmark's "
        "test accuracy (%). Mean ± std (ddof 1) over search seeds; evaluations per search; wall time per search "
        "(s, this machine, shared load; with the default shared init seed later seeds reuse earlier scores, so see "
        "'proxy s per search' below for the cost of a cold search). Paper = GenNAS Table 3 for the same fitness (* = re-run by the paper's "
        "authors with the same evolution; NB201 NASWOT quoted from its own paper). Non-finite fitness ranks worst.", "",
    ]
    header = ["fitness"]
    for bench, dataset in columns:
        header += [f"{bench}/{dataset}", "seeds", "evals", "wall s", "paper"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    cells: dict[str, dict[tuple[str, str], list[str]]] = {}
    for row in summary.itertuples():
        cells.setdefault(row.fitness, {})[(row.benchmark, row.dataset)] = [
            _pm(row.found_truth_mean, row.found_truth_std), str(row.n_seeds), f"{row.evaluations:.0f}",
            _pm(row.wall_s_mean, row.wall_s_std, 0), row.paper or "–",
        ]
    for fitness, by_column in cells.items():
        line = [fitness]
        for column in columns:
            line += by_column.get(column, ["–"] * 5)
        lines.append("| " + " | ".join(line) + " |")
    oracle = ["optimal (oracle)"]
    for bench, dataset in columns:
        value = summary[(summary["benchmark"] == bench) & (summary["dataset"] == dataset)]["oracle"].iloc[0]
        oracle += [f"{value:.2f}", "", "", "", paper_value(bench, dataset, "Optimal") or "–"]
    lines.append("| " + " | ".join(oracle) + " |")
    lines += ["", "## Details", "",
              "| benchmark/dataset | fitness | seeds | found | best seen | distinct archs | scores computed | reused | "
              "non-finite | proxy s per search | CPU s per search | device | surrogate inputs |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in summary.itertuples():
        lines.append(
            f"| {row.benchmark}/{row.dataset} | {row.fitness} | {row.seeds} | {_pm(row.found_truth_mean, row.found_truth_std)} | "
            f"{row.best_seen_mean:.2f} | {row.distinct_archs:.0f} | {row.computed} | {row.reused} | {row.nonfinite} | "
            f"{row.fitness_s_mean:.0f} | {_num(row.cpu_s_mean)} | {row.device} | {'yes' if row.surrogate_inputs else 'no'} |")
    lines += ["", "## Paper's Table 3 (all methods)", "", "| benchmark/dataset | " + " | ".join(["method", "test acc (%)"]) + " |",
              "|---|---|---|"]
    for (bench, dataset), methods in TABLE3.items():
        for method, value in methods.items():
            lines.append(f"| {bench}/{dataset} | {method} | {value} |")
    return "\n".join(lines) + "\n"


def write_search_table(sources: Iterable[Path], out: Path) -> str:
    """Read outcome files, write ``out`` (Markdown) and ``out`` with ``.csv``; return the Markdown."""
    outcomes = [o for source in sources for o in read_outcomes(Path(source))]
    if not outcomes:
        names = ", ".join(str(s) for s in sources)
        raise NasproxyError(f"no recorded search outcomes in {names}; run 'nasproxy-bench search' first or pass --store/--outcomes")
    summary = search_summary(outcomes)
    text = to_markdown(summary)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    summary.to_csv(out.with_suffix(".csv"), index=False)
    return text


def table3_for_store(store: ResultStore) -> str:
    """Table 3 from the searches recorded beside ``store`` (the ``gennas tables`` writer signature)."""
    outcomes = read_outcomes(outcomes_path(store.path))
    if not outcomes:
        return (f"# End-to-end search (GenNAS Table 3)\n\nNo searches recorded beside {store.path}; run "
                "'nasproxy-bench search --fitness PROXY --seeds 0-9' with this --store.\n")
    return to_markdown(search_summary(outcomes))

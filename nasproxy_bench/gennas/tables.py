"""``gennas tables``: the paper's Tables 1 and 2 from the result store, paper numbers beside ours.

Table 1 cells are tasks with one signal base at one stage (64 channels, local, as the paper's
Sec. 4.1 describes), on the network at the public code's width (16 first-stage channels, the
width its NB101 runs use), stored under their task-hash proxy names (``gennas:<hash>``); run them
with ``gennas write-tasks`` then ``run --proxies gennas:<file>,...``. The tables work for any
benchmark and dataset in the store (the paper's Table 1 is NB101/CIFAR-10). Table 3 (the
end-to-end search) is written by ``nasproxy_bench.search.tables`` from the searches recorded beside the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nasproxy_bench.bootstrap import spearman_ci
from nasproxy_bench.gennas import paper
from nasproxy_bench.gennas.proxies import task_proxy_name
from nasproxy_bench.gennas.rnn_task import RNN_PRESETS
from nasproxy_bench.gennas.task import PRESETS, PUBLIC_CODE_WIDTH, SCHEMA, VERSION, Task, load_preset, parse_task, save_task
from nasproxy_bench.metrics import spearman
from nasproxy_bench.report import current_groups, group_scores
from nasproxy_bench.search.tables import table3_for_store
from nasproxy_bench.store import ResultStore

STAGES = ("S1", "S2", "S3")

_BASE_OF_COLUMN = {
    "Sin1D-L": {"base": "sin1d", "band": "L"}, "Sin1D-M": {"base": "sin1d", "band": "M"},
    "Sin1D-H": {"base": "sin1d", "band": "H"}, "Sin2D-L": {"base": "sin2d", "band": "L"},
    "Sin2D-M": {"base": "sin2d", "band": "M"}, "Sin2D-H": {"base": "sin2d", "band": "H"},
    "Dot50": {"base": "dot", "fraction": 0.5}, "Dot100": {"base": "dot", "fraction": 1.0},
    "GDot50": {"base": "gdot", "fraction": 0.5}, "GDot100": {"base": "gdot", "fraction": 1.0},
    "Resize": {"base": "resize"}, "Zero": {"base": "zero"},
}


def table1_task(column: str, stage: str) -> Task:
    """The Table 1 cell (column, stage): that base alone, 64 channels, at that stage only, 16-channel network."""
    base = {**_BASE_OF_COLUMN[column], "channels": 64}
    if base["base"] != "resize":
        base["local"] = True
    stages = [{"tensors": [[base]] if s == stage else []} for s in STAGES]
    return parse_task({"schema": SCHEMA, "version": VERSION, "name": f"table1_{column}_{stage}",
                       "description": f"GenNAS Table 1 cell: {column} at {stage} only", "stages": stages,
                       "network": {"channels": PUBLIC_CODE_WIDTH}})


def write_table1_tasks(out: Path) -> list[Path]:
    return [save_task(table1_task(c, s), out / f"table1_{c}_{s}.json") for s in STAGES for c in paper.TABLE1_COLUMNS]


@dataclass
class Cell:
    rho: float
    n: int
    low: float = float("nan")
    high: float = float("nan")
    note: str = ""  # e.g. " w16": measured with the 16-channel twin of the preset

    def text(self) -> str:
        if self.n == 0:
            return "not run"
        if not np.isfinite(self.rho):
            return f"too few (n={self.n})"
        ci = f" [{self.low:.2f}, {self.high:.2f}]" if np.isfinite(self.low) else ""
        return f"{self.rho:.2f}{ci} (n={self.n}{self.note})"


def measured(store: ResultStore, truth_of: Callable[[str, str], object], benchmark: str, dataset: str, proxy: str,
             exclude: frozenset[str] = frozenset()) -> Cell:
    """Spearman rho of -loss vs ground truth over every stored architecture (seed 0 groups first)."""
    groups = [g for g in current_groups(store)
              if (g.key.benchmark, g.key.dataset, g.key.proxy) == (benchmark, dataset, proxy)]
    if not groups:
        return Cell(float("nan"), 0)
    group = min(groups, key=lambda g: (g.key.seed, g.key.sample_seed, g.key.batch_size))
    scores = group_scores(group).drop(labels=list(exclude), errors="ignore")
    truth = truth_of(benchmark, dataset).reindex(scores.index).to_numpy(dtype=float)
    s = -scores.to_numpy(dtype=float)
    n = int((~np.isnan(s) & np.isfinite(truth)).sum())
    if n < 3:
        return Cell(float("nan"), n)
    low, high = spearman_ci(s, truth)
    return Cell(spearman(s, truth), n, low, high)


def _table1_cell(store: ResultStore, truth_of, benchmark: str, dataset: str, task: Task) -> Cell:
    """A cell's scores under its hash name, or under a preset's name when it is that preset (Dot100 at S3)."""
    names = [task_proxy_name(task)] + [name for name in PRESETS if load_preset(name).hash == task.hash]
    cells = [measured(store, truth_of, benchmark, dataset, name) for name in names]
    return max(cells, key=lambda c: c.n)


def table1(store: ResultStore, truth_of, benchmark: str = "nb101", dataset: str = "cifar10") -> str:
    head = "| stage | " + " | ".join(paper.TABLE1_COLUMNS) + " |"
    lines = [f"## GenNAS Table 1: each signal base at each stage ({benchmark}/{dataset}); ours / paper (NB101 C10)",
             "", head, "|" + "---|" * (len(paper.TABLE1_COLUMNS) + 1)]
    for stage in STAGES:
        cells = []
        for column, target in zip(paper.TABLE1_COLUMNS, paper.TABLE1[stage], strict=True):
            cell = _table1_cell(store, truth_of, benchmark, dataset, table1_task(column, stage))
            cells.append(f"{cell.text()} / {target:.2f}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    combo, name = _most_scored(store, truth_of, benchmark, dataset, ("gennas_combo_w16", "gennas_combo"))
    lines += ["", f"GenNAS-combo ({name}): {combo.text()} / paper {paper.TABLE1_COMBO:.2f}"]
    return "\n".join(lines) + "\n"


def _paper(target: dict[str, float], column: str) -> str:
    return f"{target[column]:.2f}" if column in target else "–"


def _most_scored(store: ResultStore, truth_of, benchmark: str, dataset: str, names: tuple[str, ...]) -> tuple[Cell, str]:
    """The measured cell of whichever of ``names`` has the most scored architectures (the first on ties)."""
    cells = [measured(store, truth_of, benchmark, dataset, name) for name in names]
    best = max(range(len(names)), key=lambda i: (cells[i].n, -i))
    return cells[best], names[best]


def _preset_cell(store: ResultStore, truth_of, benchmark: str, dataset: str, kind: str) -> Cell:
    """GenNAS-single/combo of a row: the CNN preset, its 16-channel twin (``*_w16``, named in the cell),
    or the RNN one (``gennas_rnn_*``) on a recurrent space, whichever has the most scores."""
    cell, name = _most_scored(store, truth_of, benchmark, dataset, (f"gennas_{kind}", f"gennas_{kind}_w16", f"gennas_rnn_{kind}"))
    return replace(cell, note=" w16") if name.endswith("_w16") and cell.n else cell


def _preset_cells(store: ResultStore, truth_of, benchmark: str, dataset: str) -> tuple[Cell, Cell, Cell]:
    """GenNAS-single, GenNAS-combo and the shipped GenNAS-N (``gennas_search_n``) of one row."""
    return (_preset_cell(store, truth_of, benchmark, dataset, "single"), _preset_cell(store, truth_of, benchmark, dataset, "combo"),
            measured(store, truth_of, benchmark, dataset, "gennas_search_n"))


def table2(store: ResultStore, truth_of, searched: list[Task] = (), label_truth_of=None) -> str:
    """``label_truth_of(benchmark, dataset, metric)``, when given, adds the rows against the paper's own labels."""
    present = sorted({(g.key.benchmark, g.key.dataset) for g in current_groups(store)
                      if g.key.proxy in PRESETS + RNN_PRESETS or g.key.proxy.startswith("gennas:")})
    rows = sorted(set(present) | set(paper.TABLE2))
    lines = ["## GenNAS Table 2: Spearman rho, ours [95% bootstrap CI] (n) vs paper", "",
             "| benchmark | dataset | single | paper | combo | paper | searched | paper search-N |", "|---|---|---|---|---|---|---|---|"]
    for bench, dataset in rows:
        target = paper.TABLE2.get((bench, dataset), {})
        run = (bench, dataset) in present
        single, combo, shipped = _preset_cells(store, truth_of, bench, dataset) if run else (Cell(np.nan, 0),) * 3
        found = []
        if shipped.n:
            found.append(f"gennas_search_n (the paper's task, public code CONF_NB101): {shipped.text()}")
        for task in searched:
            prov = task.provenance or {}
            cell = measured(store, truth_of, bench, dataset, task_proxy_name(task), frozenset(prov.get("labelled_archs", ())))
            if cell.n:
                found.append(f"{task.name}: {cell.text()}")
        lines.append(f"| {bench} | {dataset} | {single.text()} | {_paper(target, 'single')} | {combo.text()} | "
                     f"{_paper(target, 'combo')} | {'; '.join(found) or 'not run'} | {_paper(target, 'search-N')} |")
    lines += ["", "Labelled architectures of a searched task (its provenance) are left out of its row."]
    if label_truth_of is not None:
        lines += _paper_label_lines(store, label_truth_of, {row for row in present if row in paper.LABELS})
    return "\n".join(lines) + "\n"


def _paper_label_lines(store: ResultStore, label_truth_of, rows: set[tuple[str, str]]) -> list[str]:
    """The same presets against the labels the paper used (``paper.LABELS``) where those are not our default."""
    lines = []
    for bench, dataset in sorted(rows):
        label_dataset, metric = paper.LABELS[(bench, dataset)]
        truth = lambda b, d, ds=label_dataset, m=metric: label_truth_of(b, ds, m)  # noqa: E731
        single, combo, shipped = _preset_cells(store, truth, bench, dataset)
        cells = [f"single {single.text()}", f"combo {combo.text()}"]
        if shipped.n:
            cells.append(f"gennas_search_n {shipped.text()}")
        lines.append(f"- {bench}/{dataset} against the paper's labels ({label_dataset} {metric}): " + "; ".join(cells))
    return ["", "Against the labels the paper correlated with (where they differ from ours):"] + lines if lines else []


def all_tables(store: ResultStore, truth_of, *, table1_benchmark: str, table1_dataset: str, searched: list[Task],
               label_truth_of=None) -> str:
    parts = [table1(store, truth_of, table1_benchmark, table1_dataset), table2(store, truth_of, searched, label_truth_of)]
    parts.append(table3_for_store(store))
    return "\n".join(parts)

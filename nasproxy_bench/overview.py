"""The one-figure summary of ``run --all``: SPR@All of every proxy on every benchmark/task.

As the NAS-Bench-Suite-Zero overview: rows are proxies, columns are benchmark/task, each cell
the Spearman rank correlation of the proxy with the ground truth over the run's sample (mean
over seeds). A blank cell is a proxy not run there (or without a correlation); the CSV beside
the figure has the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nasproxy_bench.config import RunConfig  # noqa: E402
from nasproxy_bench.report import summarize  # noqa: E402
from nasproxy_bench.store import ResultStore  # noqa: E402
from nasproxy_bench.survey import save_figure  # noqa: E402


def spr_matrix(summary: pd.DataFrame, configs: list[RunConfig]) -> pd.DataFrame:
    """Proxies x "benchmark/dataset" SPR@All, from ``summarize`` rows matching the runs' sample and batch size."""
    wanted = {(c.benchmark, c.dataset, c.sample_seed if c.arch_list is None else -1, c.batch_size) for c in configs}
    keys = list(zip(summary["benchmark"], summary["dataset"], summary["sample_seed"], summary["batch_size"], strict=True))
    rows = summary[[k in wanted for k in keys]]
    columns = [f"{c.benchmark}/{c.dataset}" for c in configs]
    matrix = rows.assign(task=rows["benchmark"] + "/" + rows["dataset"]).pivot_table(
        index="proxy", columns="task", values="spearman_mean", aggfunc="first")
    return matrix.reindex(columns=[c for c in dict.fromkeys(columns) if c in matrix.columns])


def heatmap(matrix: pd.DataFrame, path: Path) -> list[Path]:
    values = matrix.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * values.shape[1] + 2.5), max(3.0, 0.4 * values.shape[0] + 2.0)))
    image = ax.imshow(np.ma.masked_invalid(values), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(values.shape[1]), matrix.columns, rotation=70, ha="right", fontsize=7)
    ax.set_yticks(range(values.shape[0]), matrix.index, fontsize=8)
    for (i, j), value in np.ndenumerate(values):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=5.5, color="white" if abs(value) > 0.6 else "black")
    fig.colorbar(image, ax=ax, label="SPR@All (Spearman ρ with ground truth)")
    ax.set_title("Proxy SPR@All over every benchmark/task scored by run --all")
    return save_figure(fig, path)


def write_overview(store_path: Path, data_root: Path, out_dir: Path, configs: list[RunConfig]) -> list[Path]:
    """``overview_spr.{csv,png,svg}`` under ``out_dir``; raises ``MissingGroundTruth`` when nothing correlates."""
    matrix = spr_matrix(summarize(ResultStore(store_path), data_root), configs)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "overview_spr.csv"
    matrix.to_csv(csv_path, float_format="%.4f")
    return [csv_path, *heatmap(matrix, out_dir / "overview_spr")]

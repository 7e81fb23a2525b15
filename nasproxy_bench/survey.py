"""The survey's figures and tables, regenerated from the result store.

Writes under the reports folder: correlation bars (survey figs. 6-10), top-x% curves
(figs. 13-14), Pareto panels and regret tables against hardware costs (figs. 18-19),
best-found tables (tables IV-V), retrieval rates at several k (GenNAS appendix), and
``index.md`` linking everything with sample sizes, seeds, batch settings and input sources.

Seeds: correlation tables, bars and top-x% curves give KT/SPR as mean ± std over every stored
init/batch seed (the survey averages 5); bootstrap CIs and Pareto panels use the lowest seed's scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from nasproxy_bench.best_found import best_found_over_seeds, compare_with_survey  # noqa: E402
from nasproxy_bench.bootstrap import correlation_ci, spearman_ci  # noqa: E402
from nasproxy_bench.literature import SURVEY_TRANSCRIPTION, SURVEY_UNCONFIRMED, fidelity_table, survey_best_found  # noqa: E402
from nasproxy_bench.metrics import mean_std, retrieval_rate, space_threshold, spearman, top_subset  # noqa: E402
from nasproxy_bench.pareto import budget_sweep, default_budgets, pareto_front  # noqa: E402
from nasproxy_bench.registry import open_benchmark, proxies  # noqa: E402
from nasproxy_bench.report import (  # noqa: E402
    complete_seeds,
    current_groups,
    derived_groups,
    ground_truth_gaps,
    group_scores,
    summarize,
    to_markdown,
)
from nasproxy_bench.store import Group, ResultStore  # noqa: E402
from nasproxy_bench.survey_plan import nats_note  # noqa: E402

RETRIEVAL_K = (5, 10, 20, 30, 40, 50)
TOPX = tuple(range(10, 101, 10))
MIN_TOP_N = 5  # fewest sample members in the space's top k% for an @Top bar (the tables print every value with n)
TOPX_PROXIES = ("params", "flops", "synflow", "naswot", "zico")
# HW-NAS-Bench devices the survey's Pareto figures use, in order of preference (then NATS-sss's recorded latency)
# Ground truth the survey pages use where it differs from the benchmark's default metric. The survey prints
# mIoU for segmentation; our TransNAS table has mIoU only at the best validation epoch (pixel accuracy is
# the final-epoch default), so the survey pages use best-epoch mIoU to compare like with like.
SURVEY_METRICS = {("tnb101_micro", "segmentsemantic"): "best_miou"}
# Where each benchmark's pages appear in the survey: correlation bars, top-x% curves, best-found table
SURVEY_FIGURES = {
    "nb201": ("Figs. 6 (@All) and 7 (@Top5%)", "Fig. 13", "Table IV"),
    "nats_sss": ("Figs. 8 (@All) and 9 (@Top5%)", "Fig. 14", "Table IV"),
    "tnb101_micro": ("Fig. 10", None, "Table V"),
}


@dataclass(frozen=True)
class HardwareFigure:
    """A survey hardware figure: the cost it uses, then substitutes in order of preference.

    Each option is (benchmark, cost column, description); the first one the store and data root
    can draw is used, and a substitute is labelled as such on the figure itself.
    """

    number: str
    wanted: tuple[str, str, str]
    substitutes: tuple[tuple[str, str, str], ...]


HARDWARE_FIGURES = (
    HardwareFigure("18", ("nb201", "edgegpu/energy_mj", "EdgeGPU (Jetson TX2) energy, HW-NAS-Bench"),
                   (("nb201", "pi5-litert/energy_mj",
                     "Raspberry Pi 5 energy (LiteRT, HW-NAS-Bench-360, CIFAR-100 models)"),)),
    HardwareFigure("19", ("nats_sss", "nats/latency_ms", "GTX1080 latency recorded in NATS-Bench, size space"),
                   (("nb201", "1080ti_1/latency_ms",
                     "GTX 1080 Ti latency, batch 1 (HELP), on the NB201 topology space"),)),
)
PARETO_COSTS = ("edgegpu/latency_ms", "fpga/latency_ms", "eyeriss/latency_ms", "pixel3/latency_ms", "raspi4/latency_ms",
                "pi5-litert/latency_ms", "nats/latency_ms")


@dataclass
class RunScores:
    """Scores of every proxy for one (benchmark, dataset, sample, batch size): ``scores`` at its lowest seed,
    ``seed_scores`` at every stored seed (lowest first)."""

    benchmark: str
    dataset: str
    seed: int
    scores: dict[str, pd.Series] = field(default_factory=dict)
    seed_scores: dict[str, list[pd.Series]] = field(default_factory=dict)


def save_figure(fig: plt.Figure, path: Path) -> list[Path]:
    """``path`` as PNG and SVG (dpi 130), then close the figure; every report figure goes through here."""
    fig.tight_layout()
    out = [path.with_suffix(".png"), path.with_suffix(".svg")]
    for p in out:
        fig.savefig(p, dpi=130)
    plt.close(fig)
    return out


def _sign(name: str) -> float:
    spec = proxies().get(name)
    return spec.direction.sign() if spec else 1.0


def collect_runs(store: ResultStore) -> list[RunScores]:
    runs: dict[tuple, RunScores] = {}
    by_run: dict[tuple, list[Group]] = {}
    for group in [*current_groups(store), *derived_groups(store)]:
        k = group.key
        by_run.setdefault((k.benchmark, k.dataset, k.proxy, k.proxy_version, k.sample_seed, k.batch_size), []).append(group)
    groups = [g for seeds in by_run.values() for g in complete_seeds(seeds)]  # a seed still under way is left out
    for group in sorted(groups, key=lambda g: g.key.seed):
        k = group.key
        run = runs.setdefault((k.benchmark, k.dataset, k.sample_seed, k.batch_size), RunScores(k.benchmark, k.dataset, k.seed))
        if k.seed == run.seed and k.proxy not in run.scores:
            run.scores[k.proxy] = group_scores(group)
        run.seed_scores.setdefault(k.proxy, []).append(group_scores(group))
    return list(runs.values())


def _value_range(values: pd.Series) -> str:
    """``12`` when every value is 12, ``33–200`` when they differ."""
    low, high = int(values.min()), int(values.max())
    return str(low) if low == high else f"{low}–{high}"


def sample_sizes(part: pd.DataFrame, short: bool = False) -> str:
    """A caption's sample size: one n when every proxy of the run has it, else the range (tables give each proxy's)."""
    sizes = _value_range(part["n"])
    if short:
        return f"n={sizes}" + ("" if "–" not in sizes else " per proxy")
    return f"n={sizes} sampled architectures" + ("" if "–" not in sizes else " (each proxy's n in the correlation table)")


def seed_sets(part: pd.DataFrame) -> str:
    """The caption's seeds: one set when every proxy has it, else each set with how many proxies use it."""
    counts = part["seeds"].astype(str).value_counts()
    if len(counts) == 1:
        return f"seeds {counts.index[0]}"
    return "seeds " + "; ".join(f"{seeds} ({count} prox{'y' if count == 1 else 'ies'})" for seeds, count in sorted(counts.items()))


def _cifar10_valid_spr(runs: list[RunScores], data_root: Path) -> dict[str, float]:
    """SPR of the NB201 CIFAR-10 scores against the cifar10-valid ground truth (same networks)."""
    run = next((r for r in runs if (r.benchmark, r.dataset) == ("nb201", "cifar10")), None)
    if run is None:
        return {}
    truth = open_benchmark("nb201", data_root).ground_truth("cifar10-valid")
    return {name: spearman(s.to_numpy() * _sign(name), truth.reindex(s.index).to_numpy()) for name, s in run.scores.items()}


def bars(summary: pd.DataFrame, out_dir: Path) -> list[Path]:
    """KT and SPR @All and @Top-k% per proxy, one figure per (benchmark, dataset)."""
    paths = []
    for (bench, dataset), part in summary.groupby(["benchmark", "dataset"]):
        part = part.sort_values("spearman_mean", ascending=False)
        k = part["top_percent"].iloc[0]
        cols = [("spearman", "SPR@All"), ("spearman_top", f"SPR@Top{k:g}%"), ("kendall", "KT@All"), ("kendall_top", f"KT@Top{k:g}%")]
        fig, ax = plt.subplots(figsize=(max(8, 0.55 * len(part)), 4.5))
        x = np.arange(len(part))
        width = 0.2
        several_seeds = len(str(part["seeds"].iloc[0]).split(",")) > 1
        for i, (col, label) in enumerate(cols):
            err = None
            if several_seeds:
                err = np.nan_to_num(part[f"{col}_std"].to_numpy(dtype=float))
            elif f"{col}_ci_low" in part:
                err = np.vstack([part[f"{col}_mean"] - part[f"{col}_ci_low"], part[f"{col}_ci_high"] - part[f"{col}_mean"]])
                err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
            values = part[f"{col}_mean"].to_numpy(dtype=float)
            if col.endswith("_top"):  # a correlation over 2-4 architectures is ±1 or close by construction
                too_few = part["n_top"].to_numpy() < MIN_TOP_N
                values = np.where(too_few, np.nan, values)
                err = None if err is None else np.where(too_few, 0, err)
            ax.bar(x + (i - 1.5) * width, values, width, yerr=err, capsize=2, label=label)
        ticks = [f"{p} (n@Top={int(n)}{', not drawn' if n < MIN_TOP_N else ''})"
                 + ("" if np.isfinite(rho) else "\nno correlation: scores constant or missing")
                 for p, n, rho in zip(part["proxy"], part["n_top"], part["spearman_mean"], strict=True)]
        ax.set_xticks(x, ticks, rotation=45, ha="right")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_ylabel("rank correlation with ground truth")
        bar_meaning = ("bars: mean over seeds, error bars: ± std over seeds" if several_seeds
                       else "one seed; error bars: 95% bootstrap CI over architectures, none computed for KT@All")
        bar_meaning += f"; @Top drawn only where n@Top >= {MIN_TOP_N}"
        survey = SURVEY_FIGURES.get(bench, ("",))[0]
        surrogate = " (surrogate inputs)" if part["surrogate_inputs"].any() else ""
        ax.set_title(f"{'survey ' + survey + ': ' if survey else ''}{bench} / {dataset} vs {part['ground_truth'].iloc[0]}{surrogate}\n"
                     f"{sample_sizes(part, short=True)}, {seed_sets(part)}; Top{k:g}% = top {k:g}% of the whole space\n"
                     f"{bar_meaning}", fontsize=8)
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, -0.35), max(high, 1.05))  # room below zero for the legend
        ax.legend(ncols=4, fontsize=7, loc="lower left")
        paths += save_figure(fig, out_dir / f"fig_correlations_{bench}_{dataset}")
    return paths


def topx_curves(run: RunScores, truth: pd.Series, out_dir: Path, truth_sign: float = 1.0) -> tuple[list[Path], pd.DataFrame]:
    """Spearman ρ on the sample's members in the top x% of the whole space (``truth`` = the full table), x = 10..100."""
    rows = []
    space = truth.to_numpy(dtype=float) * truth_sign
    thresholds = {x: space_threshold(space, x) for x in TOPX}
    n_at: dict[int, int] = {}
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    styles = iter([("o", "-"), ("s", "--"), ("^", "-."), ("D", ":"), ("v", "-")] * 4)
    for name in [p for p in TOPX_PROXIES if p in run.scores]:
        per_seed = run.seed_scores.get(name) or [run.scores[name]]
        means, stds = [], []
        for x in TOPX:
            values = []
            for s in per_seed:
                sub_s, sub_t = top_subset(s.to_numpy() * _sign(name), truth.reindex(s.index).to_numpy() * truth_sign, thresholds[x])
                values.append(spearman(sub_s, sub_t))
            mean, std = mean_std(values)
            means.append(mean)
            stds.append(std)
            sub_s, sub_t = top_subset(run.scores[name].to_numpy() * _sign(name),
                                      truth.reindex(run.scores[name].index).to_numpy() * truth_sign, thresholds[x])
            low, high = correlation_ci(sub_s, sub_t, "spearman")
            n_at.setdefault(x, len(sub_s))
            rows.append({"proxy": name, "top_percent": x, "spearman_mean": mean, "spearman_std": std, "seeds": len(per_seed),
                         "n": len(sub_s), "ci_low": low, "ci_high": high, "threshold": thresholds[x] * truth_sign})
        marker, line = next(styles)  # distinct styles keep coinciding curves (params = flops on NB201) visible
        drawn = [n_at[x] >= MIN_TOP_N for x in TOPX]  # fewer members give ±1-ish values by construction
        means, stds = np.where(drawn, means, np.nan), np.where(drawn, stds, np.nan)
        curve = ax.plot(TOPX, means, marker=marker, linestyle=line, markerfacecolor="none", label=name)[0]
        if len(per_seed) > 1:
            ax.fill_between(TOPX, np.subtract(means, stds), np.add(means, stds), color=curve.get_color(), alpha=0.15)
    if n_at:
        ax.set_xticks(TOPX, [f"{x}\nn={n_at[x]}" for x in TOPX], fontsize=7)
    ax.set_xlabel("top x% of the whole space by ground truth (n = sample members in it; CIs in the CSV)")
    ax.set_ylabel("Spearman ρ within the subset")
    seeds = max((len(v) for v in run.seed_scores.values()), default=1)
    spread = f"mean ± std (band) over {seeds} seeds" if seeds > 1 else f"seed {run.seed}"
    survey = SURVEY_FIGURES.get(run.benchmark, ("", None))[1]
    ax.set_title(f"{'survey ' + survey + ': ' if survey else ''}{run.benchmark} / {run.dataset} vs {truth.name}\n"
                 f"SPR on the top-x% subset, {spread}; points with n < {MIN_TOP_N} not drawn", fontsize=9)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir / f"fig_topx_{run.benchmark}_{run.dataset}"), pd.DataFrame(rows)


def pareto(run: RunScores, truth: pd.Series, costs: pd.DataFrame, column: str, out_dir: Path, *,
           headline: str = "", stem: str = "") -> tuple[list[Path], pd.DataFrame]:
    """Proxy picks under a sweep of cost budgets (lowest seed's scores); ``headline`` tops the figure."""
    names = sorted(p for p in run.scores if p in proxies())
    archs = run.scores[names[0]].index
    cost = costs[column].reindex(archs).to_numpy(dtype=float)
    acc = truth.reindex(archs).to_numpy(dtype=float)
    budgets = default_budgets(cost)
    front = pareto_front(np.where(np.isfinite(cost), cost, np.inf), np.where(np.isfinite(acc), acc, -np.inf))
    label = column.replace("/", " ").replace("_ms", " (ms)").replace("_mj", " (mJ)")
    cols = min(4, len(names))
    nrows = int(np.ceil(len(names) / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3.2 * nrows), squeeze=False, sharex=True, sharey=True)
    tables = []
    for ax, name in zip(axes.flat, names, strict=False):
        s = run.scores[name].reindex(archs).to_numpy(dtype=float)
        sweep = budget_sweep(s, cost, acc, budgets, score_sign=_sign(name))
        sweep.insert(0, "proxy", name)
        tables.append(sweep)
        ax.scatter(cost, acc, s=4, color="0.75", label="candidates")
        ax.plot(cost[front], acc[front], color="black", linewidth=1.2, label="true Pareto front")
        picked = sweep[sweep["pick"] >= 0]
        ax.plot(picked["pick_cost"], picked["pick_truth"], color="tab:red", marker="o", markersize=3, linewidth=1,
                label="proxy picks")
        ax.set_title(f"{name}: mean regret {sweep['regret'].mean():.2f}", fontsize=9)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    # a few degenerate cells (~chance accuracy) would squash the interesting top of the plot
    finite = acc[np.isfinite(acc)]
    low = np.quantile(finite, 0.02)
    axes.flat[0].set_ylim(low - 0.05 * (finite.max() - low), finite.max() + 0.05 * (finite.max() - low))
    for ax in axes[-1]:
        ax.set_xlabel(label)
    for ax in axes[:, 0]:
        ax.set_ylabel(f"{truth.name or 'ground truth'}")
    axes.flat[0].legend(fontsize=7)
    title = (f"{run.benchmark} / {run.dataset}: proxy pick within a {label} budget\n"
             f"n={len(archs)}, seed {run.seed}; y axis from the 2nd percentile")
    fig.suptitle(f"{headline}\n{title}" if headline else title, fontsize=10, color="darkred" if "SUBSTITUT" in headline else "black")
    safe = column.replace("/", "_")
    path = out_dir / (stem or f"fig_pareto_{run.benchmark}_{run.dataset}_{safe}")
    return save_figure(fig, path), pd.concat(tables, ignore_index=True)


def _md_table(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = [format(v, floatfmt) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def add_bootstrap(summary: pd.DataFrame, runs: list[RunScores], data_root: Path) -> pd.DataFrame:
    lows, highs = [], []
    by_key = {(r.benchmark, r.dataset): r for r in runs}
    for _, row in summary.iterrows():
        run = by_key.get((row["benchmark"], row["dataset"]))
        if run is None or row["proxy"] not in run.scores:
            lows.append(np.nan)
            highs.append(np.nan)
            continue
        bench = open_benchmark(row["benchmark"], Path(data_root))
        metric = bench.dataset(row["dataset"]).metric(row["ground_truth"])  # the metric the summary correlated with
        truth = bench.ground_truth(row["dataset"], metric.name) * metric.direction.sign()
        s = run.scores[row["proxy"]]
        low, high = spearman_ci(s.to_numpy() * _sign(row["proxy"]), truth.reindex(s.index).to_numpy())
        lows.append(low)
        highs.append(high)
    return summary.assign(spearman_ci_low=lows, spearman_ci_high=highs)


def _truth(bench_name: str, dataset: str, data_root: Path) -> tuple[pd.Series, float, str]:
    """Ground truth of the whole space for the survey pages, its sign and a label."""
    bench = open_benchmark(bench_name, Path(data_root))
    metric = bench.dataset(dataset).metric(SURVEY_METRICS.get((bench_name, dataset)))
    truth = bench.ground_truth(dataset, metric.name)
    truth.name = f"{dataset} {metric.name}"
    return truth, metric.direction.sign(), metric.description


def best_found_rows(runs: list[RunScores], data_root: Path) -> pd.DataFrame:
    """Tables IV/V: per proxy, ground truth of its top-ranked architecture, mean ± std over seeds."""
    rows = []
    for run in runs:
        truth, sign, description = _truth(run.benchmark, run.dataset, data_root)
        for name in sorted(run.seed_scores):
            stats = best_found_over_seeds(run.seed_scores[name], truth, score_sign=_sign(name), truth_sign=sign)
            rows.append({"survey_table": SURVEY_FIGURES.get(run.benchmark, ("", "", "-"))[2], "benchmark": run.benchmark,
                         "dataset": run.dataset, "ground_truth": truth.name, "proxy": name, **stats})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return compare_with_survey(table, survey_best_found(data_root), SURVEY_UNCONFIRMED)


def _best_found_markdown(table: pd.DataFrame) -> str:
    confirmed = table["survey"] != SURVEY_UNCONFIRMED
    lines = ["# Best-found architecture per proxy (survey Tables IV and V)", "",
             "For each proxy and each init/batch seed, the ground truth of the architecture the proxy ranks first "
             "among the n evaluated; mean ± std over the seeds (the survey averages 5 runs). The survey searches the "
             "whole space; on CPU we evaluate a uniform sample of n architectures (n printed in every row), so "
             "'sample best' is the ceiling a perfect proxy could reach here and 'space best' the survey's ceiling. "
             "The difference is ours minus the survey's, in the ground truth's units.", "",
             "**Survey column.** A number there is one printed in the survey (arXiv 2307.01998 / IEEE TPAMI 2024), "
             "with the place it is printed listed under its table. 'unconfirmed' means no printed value could be "
             "checked for that cell: the paper's Table IV/V text was not readable in this project (the search tool "
             "returns only the opening of each stored page, no HTML or PDF body of the survey is stored, and the "
             "authors' repository SLDGroup/survey-zero-shot-nas holds code, not tables), so no number is shown "
             "rather than one from memory (nasproxy_bench/literature.py). A reader with the paper can add its numbers "
             f"as `$NASPROXY_DATA/{SURVEY_TRANSCRIPTION.as_posix()}` (columns benchmark, dataset, proxy, value, source; "
             "values in the units below: accuracy and mIoU in %, SSIM in [0, 1]); the next `nasproxy-bench survey "
             "--no-run` shows them here beside ours with the difference.", ""]
    if not confirmed.any():
        lines += ["Every survey cell below is unconfirmed.", ""]
    for (table_name, bench, dataset), part in table.groupby(["survey_table", "benchmark", "dataset"], sort=True):
        first = part.iloc[0]
        lines += [f"## {table_name}: {bench} / {dataset} ({first['ground_truth']}; {sample_sizes(part, short=True)} evaluated of "
                  f"{int(first['space_size'])}, {_value_range(part['seeds'])} seeds)", "",
                  "| proxy | n | seeds | best-found (mean ± std) | sample best | space best | survey | ours − survey |",
                  "|---|---|---|---|---|---|---|---|"]
        for _, r in part.sort_values("best_found_mean", ascending=False).iterrows():
            diff = f"{r['ours_minus_survey']:+.2f}" if np.isfinite(r["ours_minus_survey"]) else "–"
            lines.append(f"| {r['proxy']} | {int(r['n'])} | {int(r['seeds'])} | {r['best_found_mean']:.2f} ± "
                         f"{r['best_found_std']:.2f} | {r['sample_best']:.2f} | {r['space_best']:.2f} | {r['survey']} | {diff} |")
        sources = [f"{r['proxy']}: {r['survey_source']}" for _, r in part.iterrows() if r["survey_source"]]
        lines += ["", "Survey values printed at: " + "; ".join(sources) + "."] if sources else []
        lines.append("")
    return "\n".join(lines)


def display_path(path: Path, data_root: Path) -> str:
    """A path as the committed pages may print it: under the data root as ``$NASPROXY_DATA/...``, under the
    working folder as a relative path, elsewhere by its file name only (no local absolute paths)."""
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    for base, prefix in ((Path(data_root).absolute(), "$NASPROXY_DATA/"), (Path.cwd(), "")):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return path.name


def hardware_pages(runs: list[RunScores], data_root: Path, out_dir: Path) -> tuple[list[str], set[tuple[str, str, str]]]:
    """Survey Figs. 18-19: each from its own cost table where present, else from a labelled substitute.

    Returns the index lines and the (benchmark, dataset, column) triples drawn.
    """
    lines, drawn = [], set()
    for figure in HARDWARE_FIGURES:
        options = [(figure.wanted, False)] + [(sub, True) for sub in figure.substitutes]
        chosen = None
        for (bench_name, column, description), substituted in options:
            for run in sorted((r for r in runs if r.benchmark == bench_name), key=lambda r: r.dataset):
                costs = open_benchmark(bench_name, Path(data_root)).hardware_costs(run.dataset)
                if costs is not None and column in costs.columns and costs[column].notna().any():
                    chosen = (run, costs, column, description, substituted)
                    break
            if chosen:
                break
        if chosen is None:
            wanted = figure.wanted
            lines += ["", f"### Fig. {figure.number}: not produced", "",
                      f"Needs scores on {wanted[0]} and its cost column `{wanted[1]}` ({wanted[2]}) or a substitute "
                      f"({'; '.join(f'{b}: `{c}`' for b, c, _ in figure.substitutes)}); neither is in the store and data root."]
            continue
        run, costs, column, description, substituted = chosen
        truth, _sign_truth, _ = _truth(run.benchmark, run.dataset, data_root)
        headline = (f"Fig. {figure.number} SUBSTITUTED: {description} in place of the survey's {figure.wanted[2]}"
                    if substituted else f"Fig. {figure.number}: {description}")
        stem = f"fig{figure.number}_pareto_{run.benchmark}_{run.dataset}_{column.replace('/', '_')}"
        paths, regret = pareto(run, truth, costs, column, out_dir, headline=headline, stem=stem)
        regret.to_csv(out_dir / f"{stem}.csv", index=False)
        drawn.add((run.benchmark, run.dataset, column))
        avg = regret.groupby("proxy")["regret"].mean().sort_values()
        best = ", ".join(f"{p} {v:.2f}" for p, v in avg.head(3).items())
        lines += ["", f"### Fig. {figure.number}: proxy picks under a `{column}` budget"
                  + (" (**substitute**)" if substituted else ""), "",
                  f"![Fig. {figure.number}]({paths[0].name})", "",
                  f"Measures: accuracy regret (oracle − pick) of each proxy's choice among the {len(run.scores[min(run.scores)])} "
                  f"sampled {run.benchmark}/{run.dataset} architectures within 10 cost budgets; ground truth {truth.name}; "
                  f"seed {run.seed}; cost: {description}"
                  + (f"; substitutes the survey's {figure.wanted[2]}, which comes out automatically once its table is in the "
                     "data root (official HW-NAS-Bench pickle / imported NATS-sss records)" if substituted else "")
                  + f". Lowest mean regret: {best}. [Per-budget CSV]({stem}.csv)"]
    return lines, drawn


def write_survey(store_path: Path, data_root: Path, out_dir: Path, *, top_percent: float = 5.0,
                 command: str = "nasproxy-bench survey") -> Path:
    """Everything above; returns the index page, which names ``command`` as what wrote it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    store = ResultStore(store_path)
    gaps = ground_truth_gaps(store, data_root)
    runs = [r for r in collect_runs(store) if (r.benchmark, r.dataset) not in gaps]
    summary = add_bootstrap(summarize(store, data_root, top_percent=top_percent, metric_overrides=SURVEY_METRICS,
                                      complete_seeds_only=True),
                            runs, data_root)
    summary.to_csv(out_dir / "correlations.csv", index=False)
    (out_dir / "correlations.md").write_text(to_markdown(summary, gaps), encoding="utf-8")
    index = ["# The zero-shot NAS survey, regenerated", "",
             "Figures and tables of Li et al., *Zero-Shot Neural Architecture Search: Challenges, Solutions, and "
             "Opportunities* (arXiv 2307.01998), recomputed by nasproxy-bench from the result store "
             f"`{display_path(store_path, data_root)}` with `{command}`. Correlations are signed "
             "(positive = the proxy ranks better networks higher); KT = Kendall τ-b, SPR = Spearman ρ; "
             "@Top = the sample's members in the top "
             f"{top_percent:g}% of the **whole space** by ground truth (n and 95% bootstrap CI printed beside every value "
             "in the tables).", "",
             "## Runs", "", _md_table(summary.groupby(["benchmark", "dataset"]).agg(
                 ground_truth=("ground_truth", "first"), proxies=("proxy", "count"), n=("n", "max"), seeds=("seeds", "first"),
                 batch_size=("batch_size", "first"), sample_seed=("sample_seed", "first"),
                 input_source=("input_source", "first"), surrogate_inputs=("surrogate_inputs", "any"),
                 device=("device", "first")).reset_index()), "",
             "- [Correlation tables with n and CIs](correlations.md) ([CSV](correlations.csv))",
             "- [Best-found per proxy, survey Tables IV and V](best_found.md) ([CSV](best_found.csv))",
             "- [Retrieval rates (GenNAS appendix)](retrieval.md)"]
    note = nats_note(data_root)
    if note:
        index += ["", "## NATS-Bench size space", "", note + "."]
    for (bench_name, dataset), message in gaps.items():
        index += ["", f"## {bench_name} / {dataset}: scores stored, no correlations", "", message]
    retrieval_rows = []
    for run in runs:
        truth, sign, description = _truth(run.benchmark, run.dataset, data_root)
        for name, s in sorted(run.scores.items()):
            t = truth.reindex(s.index).to_numpy() * sign
            retrieval_rows.append({"benchmark": run.benchmark, "dataset": run.dataset, "proxy": name,
                                   **{f"top{k}%": retrieval_rate(s.to_numpy() * _sign(name), t, k) for k in RETRIEVAL_K}})
        part = summary[(summary.benchmark == run.benchmark) & (summary.dataset == run.dataset)]
        first = part.iloc[0]
        inputs = first["input_source"] + (" (surrogate)" if part["surrogate_inputs"].any() else "")
        bars_fig, topx_fig, _ = SURVEY_FIGURES.get(run.benchmark, ("", None, ""))
        bar_paths = bars(part, out_dir)
        index += ["", f"## {run.benchmark} / {run.dataset}", "",
                  f"![correlations]({bar_paths[0].name})", "",
                  f"{'Survey ' + bars_fig + '. ' if bars_fig else ''}Measures: KT and SPR of each proxy against "
                  f"{description} ({truth.name}) over all {sample_sizes(part)} and over those in the "
                  f"space's top {top_percent:g}% (n@Top under each bar); {seed_sets(part)} (mean ± std over seeds); "
                  f"batch {int(first['batch_size'])}; inputs: {inputs}."]
        if topx_fig is not None:
            topx_paths, topx_table = topx_curves(run, truth, out_dir, sign)
            topx_table.to_csv(out_dir / f"topx_{run.benchmark}_{run.dataset}.csv", index=False)
            index += ["", f"![top-x%]({topx_paths[0].name})", "",
                      f"Survey {topx_fig}. Measures: SPR within the sample's members in the top x% of the whole space "
                      f"(x = 10..100; n per x under the axis), mean ± std over {seed_sets(part)}; "
                      f"[CSV with CIs](topx_{run.benchmark}_{run.dataset}.csv)."]
    hw_lines, drawn = hardware_pages(runs, data_root, out_dir)
    index += ["", "## Hardware-aware selection (survey Figs. 18-19)", *hw_lines]
    extra = []
    for run in runs:  # every other device column the data root has, as extra Pareto panels
        costs = open_benchmark(run.benchmark, Path(data_root)).hardware_costs(run.dataset)
        if costs is None:
            continue
        truth, _s, _d = _truth(run.benchmark, run.dataset, data_root)
        latency = [c for c in PARETO_COSTS if c in costs.columns][:2]
        for column in latency:
            if (run.benchmark, run.dataset, column) in drawn:
                continue
            paths, regret = pareto(run, truth, costs, column, out_dir)
            stem = f"regret_{run.benchmark}_{run.dataset}_{column.replace('/', '_')}"
            regret.to_csv(out_dir / f"{stem}.csv", index=False)
            extra += [f"- [{run.benchmark}/{run.dataset} under a `{column}` budget]({paths[0].name}) ([CSV]({stem}.csv))"]
    if extra:
        index += ["", "Further devices (not in the survey):", "", *extra]
    fidelity = fidelity_table(summary, _cifar10_valid_spr(runs, Path(data_root)))
    if len(fidelity):
        fidelity.to_csv(out_dir / "fidelity_nb201.csv", index=False)
        (out_dir / "fidelity_nb201.md").write_text(
            "# NB201 SPR@All against the literature (±0.05)\n\nSee docs/proxies.md for the reasons behind deviations. "
            "The survey prints no NB201 SPR numbers; the `source` column names each value's source, and says "
            "'unconfirmed' where it was not checked against that paper's text.\n\n"
            + _md_table(fidelity) + "\n", encoding="utf-8")
        index += ["", "- [NB201 SPR against published values](fidelity_nb201.md)"]
    best = best_found_rows(runs, data_root)
    best.to_csv(out_dir / "best_found.csv", index=False)
    (out_dir / "best_found.md").write_text(_best_found_markdown(best) if len(best) else "# Best-found\n\nNo runs.\n",
                                           encoding="utf-8")
    retrieval = pd.DataFrame(retrieval_rows)
    retrieval.to_csv(out_dir / "retrieval.csv", index=False)
    (out_dir / "retrieval.md").write_text("# Retrieval rate |top-k by truth ∩ top-k by proxy| / k\n\n"
                                          + _md_table(retrieval) + "\n", encoding="utf-8")
    page = out_dir / "index.md"
    page.write_text("\n".join(index) + "\n", encoding="utf-8")
    return page

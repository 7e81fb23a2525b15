"""Correlation tables from the result store (CSV and Markdown under ``reports/``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from nasproxy_bench.bootstrap import correlation_ci
from nasproxy_bench.errors import MissingGroundTruth, NasproxyError
from nasproxy_bench.metrics import Correlations, correlations, mean_std, top_subset
from nasproxy_bench.registry import open_benchmark, proxies, stored_version
from nasproxy_bench.store import SEARCH_SAMPLE, STATUS_OK, STATUS_UNSUPPORTED, Group, Record, ResultStore, RunKey

METRIC_COLUMNS = ("spearman", "spearman_top", "kendall", "kendall_top", "retrieval", "best_found")
TOP_COLUMNS = ("spearman_top", "kendall_top")  # correlations on the space's top k%: shown with n and CI
LABELS = {
    "spearman": "SPR@All",
    "spearman_top": "SPR@Top{k}%",
    "kendall": "KT@All",
    "kendall_top": "KT@Top{k}%",
    "retrieval": "Retrieval@Top{k}%",
    "best_found": "best-found",
}


def group_scores(group: Group) -> pd.Series:
    """Scores of one stored group, indexed by arch; non-ok records become NaN."""
    return pd.Series(
        {a: (r.score if r.status == STATUS_OK else np.nan) for a, r in group.records.items()}, dtype=float
    )


def current_groups(store: ResultStore) -> list[Group]:
    """Stored groups, minus those of a registered proxy at an older version than the code's.

    A proxy whose math changed keeps its old scores in the store (under the old version key),
    but tables and figures show only scores of the version the code computes now; so do the
    scores of a benchmark whose networks changed (``registry.stored_version``). Groups of
    proxies not registered in this session (e.g. a plugin not loaded) are kept. Scores computed
    by searches (sample ``SEARCH_SAMPLE``) are left out: a search visits a biased set of
    architectures, not a sample to correlate over.
    """
    registered = proxies()
    return [g for g in store.groups.values() if g.key.sample_seed != SEARCH_SAMPLE
            and (g.key.proxy not in registered
                 or stored_version(registered[g.key.proxy], g.key.benchmark) == g.key.proxy_version)]


def derived_groups(store: ResultStore) -> list[Group]:
    """Ensemble scores (e.g. vote) for every run where all their constituents are stored."""
    out = []
    by_run: dict[tuple, dict[str, Group]] = defaultdict(dict)
    for group in current_groups(store):
        k = group.key
        by_run[(k.benchmark, k.dataset, k.sample_seed, k.batch_size, k.seed)][k.proxy] = group
    for spec in proxies().values():
        if not spec.derived_from or spec.combine is None:
            continue
        for (bench, dataset, sample_seed, batch_size, seed), present in sorted(by_run.items()):
            parts = [present.get(name) for name in spec.derived_from]
            if any(p is None for p in parts):
                continue
            archs = sorted(set.intersection(*(set(p.records) for p in parts)))
            scores = [group_scores(p).reindex(archs).to_numpy() for p in parts]
            combined = spec.combine(scores, [_proxy_sign(n) for n in spec.derived_from])
            version = spec.version + "+" + "+".join(p.key.proxy_version for p in parts)
            key = RunKey(bench, dataset, spec.name, version, sample_seed, batch_size, seed)
            group = Group(key, dict(parts[0].provenance))
            group.records = {a: Record(float(v), 0.0) for a, v in zip(archs, combined, strict=True)}
            out.append(group)
    return out


def _proxy_sign(name: str) -> float:
    spec = proxies().get(name)
    return spec.direction.sign() if spec else 1.0


def ground_truth_gaps(store: ResultStore, data_root: Path) -> dict[tuple[str, str], str]:
    """Stored (benchmark, dataset) runs whose benchmark has no ground truth here, with the reason."""
    gaps: dict[tuple[str, str], str] = {}
    for key in sorted({(g.key.benchmark, g.key.dataset) for g in current_groups(store)}):
        try:
            open_benchmark(key[0], Path(data_root)).ground_truth(key[1])
        except MissingGroundTruth as exc:
            gaps[key] = str(exc)
    return gaps


def summarize(
    store: ResultStore, data_root: Path, *, top_percent: float = 5.0, metric: str | None = None,
    metric_overrides: dict[tuple[str, str], str] | None = None, complete_seeds_only: bool = False,
) -> pd.DataFrame:
    """One row per (benchmark, dataset, proxy, version, sample, batch size), mean ± std over seeds.

    ``metric_overrides``: ground-truth metric per (benchmark, dataset), in place of ``metric``.
    ``complete_seeds_only``: leave out seeds holding fewer architectures than the run's fullest seed
    (a run still under way), so every seed averages over the same sample.
    """
    runs: dict[tuple, list[Group]] = defaultdict(list)
    for group in [*current_groups(store), *derived_groups(store)]:
        k = group.key
        runs[(k.benchmark, k.dataset, k.proxy, k.proxy_version, k.sample_seed, k.batch_size)].append(group)
    if complete_seeds_only:
        runs = defaultdict(list, {key: complete_seeds(groups) for key, groups in runs.items()})
    rows = []
    gaps: dict[tuple[str, str], str] = {}
    for (bench_name, dataset, proxy, version, sample_seed, batch_size), groups in sorted(runs.items()):
        bench = open_benchmark(bench_name, Path(data_root))
        spec = bench.dataset(dataset)
        gt_metric = spec.metric((metric_overrides or {}).get((bench_name, dataset), metric))
        try:
            truth_all = bench.ground_truth(dataset, gt_metric.name)
        except MissingGroundTruth as exc:  # scored but not correlatable here: see ground_truth_gaps
            gaps[(bench_name, dataset)] = str(exc)
            continue
        per_seed = []
        statuses = defaultdict(int)
        for group in sorted(groups, key=lambda g: g.key.seed):
            scores = group_scores(group)
            for r in group.records.values():
                statuses[r.status] += 1
            truth = truth_all.reindex(scores.index).to_numpy()
            per_seed.append(
                correlations(
                    scores.to_numpy(), truth, score_sign=_proxy_sign(proxy),
                    truth_sign=gt_metric.direction.sign(), top_percent=top_percent, space_truth=truth_all.to_numpy(),
                )
            )
        first = groups[0]
        no_truth = truth_all.reindex(list(first.records)).isna()
        row = {
            "benchmark": bench_name, "dataset": dataset, "ground_truth": gt_metric.name, "proxy": proxy,
            "version": version, "sample_seed": sample_seed, "batch_size": batch_size,
            "ground_truth_description": gt_metric.description,
            "seeds": ",".join(str(g.key.seed) for g in sorted(groups, key=lambda g: g.key.seed)),
            "n": int(np.mean([c.n for c in per_seed])),
            "coverage": float(np.mean([c.coverage for c in per_seed])),
            "unsupported": statuses[STATUS_UNSUPPORTED], "errors": statuses["error"],
            "true_best": per_seed[0].true_best, "top_percent": top_percent,
            "input_source": first.provenance.get("input_source", ""),
            "surrogate_inputs": bool(first.provenance.get("surrogate_inputs", False)),
            "device": first.provenance.get("device", ""),
            "no_truth": int(no_truth.sum()), "no_truth_reason": _exclusion_reasons(bench, dataset, no_truth),
        }
        for col in METRIC_COLUMNS:
            mean, std = mean_std([asdict(c)[col] for c in per_seed])
            row[f"{col}_mean"], row[f"{col}_std"] = mean, std
        row.update(_top_intervals(groups[0], truth_all, _proxy_sign(proxy), gt_metric.direction.sign(), per_seed[0]))
        rows.append(row)
    if not rows and gaps:
        raise MissingGroundTruth(next(iter(gaps.values())))
    if not rows:
        raise NasproxyError(f"result store {store.path} has no scores; run 'nasproxy-bench run' first")
    return pd.DataFrame(rows)


def complete_seeds(groups: list[Group]) -> list[Group]:
    """The groups (seeds of one run) that hold as many architectures as the fullest of them."""
    most = max(len(g.records) for g in groups)
    return [g for g in groups if len(g.records) == most]


def _top_intervals(group: Group, truth_all: pd.Series, score_sign: float, truth_sign: float, first: Correlations) -> dict:
    """n and 95% bootstrap CIs of the @Top correlations, on the lowest seed's sample (``first`` holds its metrics)."""
    scores = group_scores(group)
    s_top, t_top = top_subset(scores.to_numpy() * score_sign, truth_all.reindex(scores.index).to_numpy() * truth_sign,
                              first.top_threshold * truth_sign)
    out: dict[str, float] = {"n_top": first.n_top, "top_threshold": first.top_threshold}
    for col, kind in (("spearman_top", "spearman"), ("kendall_top", "kendall")):
        out[f"{col}_ci_low"], out[f"{col}_ci_high"] = correlation_ci(s_top, t_top, kind)
    return out


def _exclusion_reasons(bench: object, dataset: str, no_truth: pd.Series) -> str:
    """Why scored architectures have no ground truth, where the benchmark says (e.g. NDS diverged runs)."""
    exclusions = getattr(bench, "exclusions", None)
    if not no_truth.any() or exclusions is None:
        return ""
    reasons = exclusions(dataset).reindex(no_truth[no_truth].index).fillna("no ground truth")
    return "; ".join(f"{n} {reason}" for reason, n in reasons.value_counts().items())


def _fmt(mean: float, std: float, seeds: int) -> str:
    if not np.isfinite(mean):
        return "–"
    return f"{mean:.3f} ± {std:.3f}" if seeds > 1 else f"{mean:.3f}"


def _fmt_top(row: pd.Series, col: str, seeds: int) -> str:
    """An @Top value with its n and bootstrap CI, e.g. ``0.412 (n=48, CI 0.18–0.61)``."""
    value = _fmt(row[f"{col}_mean"], row[f"{col}_std"], seeds)
    low, high = row.get(f"{col}_ci_low", np.nan), row.get(f"{col}_ci_high", np.nan)
    ci = f", CI {low:.2f}–{high:.2f}" if np.isfinite(low) and np.isfinite(high) else ""
    return f"{value} (n={int(row['n_top'])}{ci})" if "n_top" in row else value


def to_markdown(summary: pd.DataFrame, gaps: dict[tuple[str, str], str] | None = None) -> str:
    """Markdown tables, one per benchmark/dataset, proxies sorted by SPR@All; ``gaps``: runs without ground truth."""
    k = summary["top_percent"].iloc[0]
    lines = ["# Proxy correlations", ""]
    lines.append(
        "Signed correlations (positive = the proxy ranks better networks higher), mean ± std over "
        "init/batch seeds; NaN scores excluded (see coverage), ±inf scores rank first/last (e.g. zen's −inf for an "
        "input-blind network). "
        f"Top-{k:g}% = the sample's architectures whose ground truth is in the top {k:g}% of the entire search space "
        "(threshold from the benchmark's full ground-truth table, as in the survey); n = how many of the sample those are, "
        "CI = 95% percentile bootstrap over them (lowest seed). Retrieval@Top uses the top k% of the sample."
    )
    for (bench, dataset), part in summary.groupby(["benchmark", "dataset"], sort=True):
        part = part.sort_values("spearman_mean", ascending=False)
        first = part.iloc[0]
        lines += ["", f"## {bench} / {dataset} (ground truth: {first['ground_truth']}, "
                  f"true best in sample {first['true_best']:.2f})", ""]
        if first.get("ground_truth_description"):
            lines.append(f"Ground truth: {first['ground_truth_description']}.\n")
        if part["surrogate_inputs"].any():
            lines.append(f"**Surrogate inputs**: {first['input_source']}.\n")
        if "no_truth" in part and part["no_truth"].max() > 0:
            reason = first["no_truth_reason"] or "no ground truth"
            lines.append(f"**Excluded**: {int(part['no_truth'].max())} scored architectures without ground truth ({reason}).\n")
        header = ["proxy", "n", "seeds", "coverage"] + [LABELS[c].format(k=f"{k:g}") for c in METRIC_COLUMNS]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for _, r in part.iterrows():
            nseeds = len(str(r["seeds"]).split(","))
            cells = [f"{r['proxy']} (v{r['version']})", str(r["n"]), str(r["seeds"]), f"{r['coverage']:.2f}"]
            cells += [_fmt_top(r, c, nseeds) if c in TOP_COLUMNS else _fmt(r[f"{c}_mean"], r[f"{c}_std"], nseeds)
                      for c in METRIC_COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
    for (bench, dataset), message in sorted((gaps or {}).items()):
        lines += ["", f"## {bench} / {dataset}: no correlations", "", message]
    return "\n".join(lines) + "\n"


def write_reports(store_path: Path, data_root: Path, out_dir: Path, *, top_percent: float = 5.0) -> list[Path]:
    if not Path(store_path).exists():
        raise NasproxyError(f"no result store at {store_path}; run 'nasproxy-bench run' first or pass --store")
    store = ResultStore(store_path)
    summary = summarize(store, data_root, top_percent=top_percent)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out_dir / "correlations.csv", out_dir / "correlations.md"
    summary.to_csv(csv_path, index=False)
    md_path.write_text(to_markdown(summary, ground_truth_gaps(store, data_root)), encoding="utf-8")
    return [csv_path, md_path]

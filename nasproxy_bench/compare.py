"""Compare our per-architecture scores with a third-party reference table.

The reference (e.g. NAS-Bench-Suite-Zero's NASLib scores) is read for cross-checking only:
it never feeds a proxy. For each dataset and proxy present in both, on the architectures in
both, we report the rank agreement (Spearman) between our scores and theirs, and each side's
Spearman against the ground truth on that same common set.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from nasproxy_bench.errors import DataError, NasproxyError
from nasproxy_bench.metrics import spearman
from nasproxy_bench.registry import open_benchmark, proxies
from nasproxy_bench.report import current_groups, group_scores
from nasproxy_bench.store import ResultStore

# NASLib / NAS-Bench-Suite-Zero names -> ours
REFERENCE_NAMES = {"jacov": "jacob_cov", "nwot": "naswot"}


def _rank_agreement(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman between two proxies' scores of the same architectures (pairs finite in both)."""
    mask = np.isfinite(a) & np.isfinite(b)
    if mask.sum() < 3:
        return float("nan")
    return float(stats.spearmanr(a[mask], b[mask]).statistic)


# NASLib JSON reference files: top-level space name -> (our benchmark, key decoder returning a cell)
NASLIB_SPACES = {"nasbench101": ("nb101", "nasproxy_bench.adapters.nb101.naslib:decode_key")}


def load_naslib_json(path: Path) -> tuple[pd.DataFrame, str]:
    """A NASLib ``{space: {dataset: {key: {proxy: score}}}}`` file as rows keyed by our canonical id.

    Keys naming the same cell (pruned/isomorphic variants) are averaged.
    """
    import importlib
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not JSON ({exc})") from None
    spaces = [s for s in data if s in NASLIB_SPACES] if isinstance(data, dict) else []
    if len(spaces) != 1:
        raise DataError(f"{path}: expected one top-level space of {sorted(NASLIB_SPACES)}")
    benchmark, target = NASLIB_SPACES[spaces[0]]
    module, _, attr = target.partition(":")
    decode = getattr(importlib.import_module(module), attr)
    rows = []
    for dataset, entries in data[spaces[0]].items():
        for key, scores in entries.items():
            try:
                arch = decode(key).hash()
            except ValueError as exc:
                raise DataError(f"{path}: bad architecture key ({exc})") from None
            rows.append({"dataset": dataset, "arch_str": arch, **scores})
    frame = pd.DataFrame(rows).groupby(["dataset", "arch_str"], as_index=False).mean(numeric_only=True)
    return frame.rename(columns=REFERENCE_NAMES), benchmark


def load_reference(path: Path) -> pd.DataFrame:
    if not Path(path).is_file():
        raise DataError(f"missing reference table {path}")
    if Path(path).suffix == ".json":
        return load_naslib_json(path)[0]
    frame = pd.read_csv(path)
    needed = {"dataset", "arch_str"}
    if not needed <= set(frame.columns):
        raise DataError(f"{path}: needs columns {sorted(needed)} (NAS-Bench-Suite-Zero subset layout)")
    return frame.rename(columns=REFERENCE_NAMES)


def compare_with_reference(store_path: Path, reference_path: Path, data_root: Path, benchmark: str | None = None) -> pd.DataFrame:
    """``benchmark`` defaults to the space a NASLib JSON names, else nb201."""
    if not Path(store_path).exists():
        raise NasproxyError(f"no result store at {store_path}; run 'nasproxy-bench run' first")
    reference = load_reference(reference_path)
    if benchmark is None:
        benchmark = load_naslib_json(reference_path)[1] if Path(reference_path).suffix == ".json" else "nb201"
    store = ResultStore(store_path)
    bench = open_benchmark(benchmark, Path(data_root))
    known = proxies()
    rows = []
    for group in current_groups(store):
        key = group.key
        if key.benchmark != benchmark or key.proxy not in reference.columns:
            continue
        ref = reference[reference["dataset"] == key.dataset].set_index("arch_str")
        ours = group_scores(group)
        common = ours.index.intersection(ref.index)
        if len(common) < 3:
            continue
        ours_v = ours.loc[common].to_numpy()
        theirs_v = ref.loc[common, key.proxy].to_numpy(dtype=float)
        sign = known[key.proxy].direction.sign() if key.proxy in known else 1.0
        truth = bench.ground_truth(key.dataset).reindex(common).to_numpy()
        rows.append({
            "dataset": key.dataset, "proxy": key.proxy, "version": key.proxy_version, "seed": key.seed,
            "n_common": len(common),
            "rank_agreement": _rank_agreement(ours_v, theirs_v),
            "ours_spr": spearman(sign * ours_v, truth),
            "reference_spr": spearman(sign * theirs_v, truth),
        })
    if not rows:
        raise NasproxyError("no proxy/dataset in the store overlaps the reference table")
    return pd.DataFrame(rows).sort_values(["dataset", "proxy", "seed"]).reset_index(drop=True)


def to_markdown(frame: pd.DataFrame, reference_path: Path) -> str:
    lines = [
        "# Agreement with a reference implementation", "",
        f"Reference: `{Path(reference_path).name}`. rank agreement = Spearman between our score and the "
        "reference score on the common architectures; SPR columns = each against the ground truth "
        "(the benchmark's default ground truth) on that common set, with our proxy's declared direction applied to both.", "",
        "| dataset | proxy | seed | n | rank agreement | our SPR | reference SPR |", "|---|---|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        lines.append(f"| {r['dataset']} | {r['proxy']} | {r['seed']} | {r['n_common']} | {r['rank_agreement']:.3f} | "
                     f"{r['ours_spr']:.3f} | {r['reference_spr']:.3f} |")
    return "\n".join(lines) + "\n"

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


def load_reference(path: Path) -> pd.DataFrame:
    if not Path(path).is_file():
        raise DataError(f"missing reference table {path}")
    frame = pd.read_csv(path)
    needed = {"dataset", "arch_str"}
    if not needed <= set(frame.columns):
        raise DataError(f"{path}: needs columns {sorted(needed)} (NAS-Bench-Suite-Zero subset layout)")
    return frame.rename(columns=REFERENCE_NAMES)


def compare_with_reference(store_path: Path, reference_path: Path, data_root: Path, benchmark: str = "nb201") -> pd.DataFrame:
    if not Path(store_path).exists():
        raise NasproxyError(f"no result store at {store_path}; run 'nasproxy-bench run' first")
    reference = load_reference(reference_path)
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
        "(test accuracy) on that common set, with our proxy's declared direction applied to both.", "",
        "| dataset | proxy | seed | n | rank agreement | our SPR | reference SPR |", "|---|---|---|---|---|---|---|",
    ]
    for _, r in frame.iterrows():
        lines.append(f"| {r['dataset']} | {r['proxy']} | {r['seed']} | {r['n_common']} | {r['rank_agreement']:.3f} | "
                     f"{r['ours_spr']:.3f} | {r['reference_spr']:.3f} |")
    return "\n".join(lines) + "\n"

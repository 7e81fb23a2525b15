"""Best-found architecture per proxy (the survey's Tables IV and V).

The survey reports, for each proxy, the test accuracy of the architecture the proxy ranks
first, averaged over 5 runs. Here a run is one init/batch seed of the stored scores: for each
seed, the proxy's top-ranked architecture of the evaluated set is looked up in the ground
truth, and the values are averaged (mean ± std over seeds). The evaluated set is the whole
space when the scores cover it, otherwise the stored sample; its size ``n`` is reported next
to every value, together with the best ground truth in that set and in the whole space, so a
reader sees how much of the gap is the sample's and how much the proxy's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nasproxy_bench.literature import PublishedValue
from nasproxy_bench.metrics import best_found, mean_std, scored_pairs


def best_found_over_seeds(seed_scores: Sequence[pd.Series], truth: pd.Series, *, score_sign: float = 1.0,
                          truth_sign: float = 1.0) -> dict[str, float]:
    """Mean ± std over seeds of the ground truth of each seed's top-ranked architecture.

    ``seed_scores``: one score series per seed (indexed by arch); ``truth``: ground truth of the
    whole space (in its own units; ``truth_sign`` -1 for lower-is-better). Ties in the score go
    to the first architecture in the series' order.
    """
    picks, sizes = [], []
    for scores in seed_scores:
        t = truth.reindex(scores.index).to_numpy(dtype=float) * truth_sign
        s = scores.to_numpy(dtype=float) * score_sign
        picks.append(best_found(s, t) * truth_sign)
        sizes.append(int(scored_pairs(s, t).sum()))
    mean, std = mean_std(picks)
    space = truth.to_numpy(dtype=float) * truth_sign
    sample = truth.reindex(seed_scores[0].index).to_numpy(dtype=float) * truth_sign if seed_scores else np.array([])
    return {
        "n": int(min(sizes)) if sizes else 0,
        "seeds": len(picks),
        "best_found_mean": mean,
        "best_found_std": std,
        "sample_best": float(np.nanmax(sample) * truth_sign) if np.isfinite(sample).any() else float("nan"),
        "space_best": float(np.nanmax(space) * truth_sign) if np.isfinite(space).any() else float("nan"),
        "space_size": int(np.isfinite(space).sum()),
    }


def compare_with_survey(table: pd.DataFrame, printed: Mapping[tuple[str, str, str], PublishedValue], note: str) -> pd.DataFrame:
    """Add the survey's printed value (``printed[(benchmark, dataset, proxy)]``), where it is printed, and our difference.

    A missing key means the printed number could not be confirmed: the ``survey`` column then
    says so (``note``) instead of holding a number, and the difference is NaN.
    """
    survey, source, diff = [], [], []
    for _, row in table.iterrows():
        published = printed.get((row["benchmark"], row["dataset"], row["proxy"]))
        if published is None:
            survey.append(note)
            source.append("")
            diff.append(float("nan"))
        else:
            survey.append(f"{published.value:.2f}")
            source.append(published.source)
            diff.append(float(row["best_found_mean"]) - published.value)
    return table.assign(survey=survey, survey_source=source, ours_minus_survey=diff)

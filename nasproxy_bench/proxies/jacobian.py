"""Proxies from the input Jacobian of the network over the batch."""

from __future__ import annotations

import math

import numpy as np
import torch

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec
from nasproxy_bench.proxies.passes import input_jacobian

EPS = 1e-5


def _correlation(rows: np.ndarray) -> np.ndarray | None:
    """Pearson correlation matrix of the rows; None if any row is constant (undefined)."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    if np.any(norms == 0):
        return None
    unit = centred / norms[:, None]
    return np.clip(unit @ unit.T, -1.0, 1.0)


def jacob_cov(ctx: ProxyContext) -> float:
    """−Σ_i [log(λ_i + ε) + 1/(λ_i + ε)] over eigenvalues of the Jacobian correlation matrix.

    NASWOT v1 (Mellor et al., 2020). A constant Jacobian row (an input the network ignores)
    leaves the correlation undefined: the score is NaN and shows up as lost coverage.
    """
    corr = _correlation(input_jacobian(ctx).cpu().double().numpy())
    if corr is None:
        return math.nan
    eig = np.linalg.eigvalsh(corr)
    return float(-np.sum(np.log(eig + EPS) + 1.0 / (eig + EPS)))


def epe_nas(ctx: ProxyContext) -> float:
    """EPE-NAS (Lopes et al., 2021): how differently the per-class Jacobian correlations look.

    For each class c with ≥2 samples, s_c = Σ_ij log(|ρ_ij| + ε) over the correlation matrix of
    its samples' Jacobians (divided by its size when there are more than 100 classes); the
    score is the mean over class pairs of |s_c − s_c'|.
    """
    classes = ctx.task.class_labels(ctx.batch.y)
    if classes is None:
        raise UnsupportedNetwork(f"epe_nas needs per-sample classes; {ctx.dataset.name} has none")
    jac = input_jacobian(ctx).cpu().double().numpy()
    labels = classes.cpu().numpy()
    many = ctx.dataset.num_outputs > 100
    per_class = []
    for c in np.unique(labels):
        rows = jac[labels == c]
        if len(rows) < 2:
            continue
        corr = _correlation(rows)
        if corr is None:
            return math.nan
        s = float(np.sum(np.log(np.abs(corr) + EPS)))
        per_class.append(s / len(corr) if many else s)
    if len(per_class) < 2:  # a property of the batch, the same for every network: say so instead of NaN
        raise UnsupportedNetwork(f"epe_nas needs two classes with two or more samples each in the batch; this batch of "
                                 f"{len(labels)} has {len(per_class)}: use a larger --batch-size")
    s = torch.tensor(per_class, dtype=torch.float64)
    diffs = (s[:, None] - s[None, :]).abs()
    n = len(per_class)
    return float(diffs.sum() / (n * (n - 1)))


PROXIES = (
    ProxySpec("jacob_cov", jacob_cov, "jacobian", "1", tasks=ALL_TASKS, description="NASWOT-v1 Jacobian covariance score"),
    ProxySpec("epe_nas", epe_nas, "jacobian", "1", needs_labels=True, tasks=ALL_TASKS, description="per-class Jacobian correlation spread"),
)

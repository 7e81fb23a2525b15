"""Ensembles computed from stored scores of other proxies (not per network)."""

from __future__ import annotations

import numpy as np

from nasproxy_bench.proxies.base import ProxyContext, ProxySpec

CHUNK = 2048


def majority_vote(scores: list[np.ndarray], signs: list[float]) -> np.ndarray:
    """Copeland ranking: for each architecture, how many others a majority of proxies rank below it.

    ``scores[p][a]`` is proxy p's score of architecture a; ``signs`` turn each into
    higher-is-better. An architecture with any non-finite constituent score gets NaN.
    """
    oriented = np.stack([np.asarray(s, dtype=np.float64) * sign for s, sign in zip(scores, signs, strict=True)])
    valid = np.all(np.isfinite(oriented), axis=0)
    need = len(scores) // 2 + 1
    wins = np.full(oriented.shape[1], np.nan)
    ok = oriented[:, valid]
    counts = np.zeros(ok.shape[1])
    for start in range(0, ok.shape[1], CHUNK):
        block = ok[:, start:start + CHUNK]
        votes = (block[:, :, None] > ok[:, None, :]).sum(axis=0)
        counts[start:start + CHUNK] = (votes >= need).sum(axis=1)
    wins[valid] = counts
    return wins


def _not_per_network(ctx: ProxyContext) -> float:
    raise RuntimeError("vote is computed from stored scores by the report, not per network")


PROXIES = (
    ProxySpec("vote", _not_per_network, "ensemble", "1", derived_from=("synflow", "jacob_cov", "snip"),
              combine=majority_vote, description="majority vote of synflow, jacob_cov and snip (Copeland rank)"),
)

"""Nearest entries in net configuration, for ``mutate`` on the sampled (non-enumerable) NDS spaces."""

from __future__ import annotations

import json
from collections.abc import Sequence

from nasproxy_bench.adapters.nds.arch import CellArch, NDSArch


def _slots(arch: NDSArch) -> list[object]:
    net = arch.net
    if isinstance(net, CellArch):
        slots: list[object] = [*net.normal, *net.reduce, net.normal_concat, net.reduce_concat, net.width, net.depth]
    else:
        slots = [net.block_type, *net.ds, *net.ws, *net.ss, *net.bot_muls, *net.num_gs]
    if arch.optim is not None:
        slots.extend(sorted(json.loads(arch.optim).items()))
    return slots


def distance(a: NDSArch, b: NDSArch) -> int:
    """Differing slots (a genotype position, width, depth, a stage value, a recipe setting)."""
    sa, sb = _slots(a), _slots(b)
    return sum(x != y for x, y in zip(sa, sb, strict=False)) + abs(len(sa) - len(sb))


def nearest(arch: NDSArch, candidates: Sequence[NDSArch], names: Sequence[str]) -> list[str]:
    """Names of the candidates at the smallest distance from ``arch`` (ties all returned)."""
    dists = [distance(arch, c) for c in candidates]
    best = min(dists)
    return [name for name, d in zip(names, dists, strict=True) if d == best]

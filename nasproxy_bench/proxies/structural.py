"""Structural proxies: computed from the network alone, no data."""

from __future__ import annotations

from nasproxy_bench.complexity import count_flops, count_params
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec


def params(ctx: ProxyContext) -> float:
    """Number of parameters, in millions."""
    return count_params(ctx.model) / 1e6


def flops(ctx: ProxyContext) -> float:
    """Conv + linear multiply-accumulates for one input, in millions."""
    return count_flops(ctx.model, ctx.dataset.input_shape) / 1e6


PROXIES = (
    ProxySpec("params", params, "structural", "1", needs_data=False, bn="none", tasks=ALL_TASKS,
              description="#parameters (M)"),
    ProxySpec("flops", flops, "structural", "1", needs_data=False, bn="none", tasks=ALL_TASKS,
              description="conv+linear multiply-accumulates for one input (M)"),
)

"""Topology proxies from the cell graph (after Bhardwaj et al., "How does topology influence
gradient propagation and model performance of deep networks with DenseNet-type skip
connections?", CVPR'21), adapted to DAG cells:

- a *long-range link* is a non-zero edge that skips at least one node (target − source ≥ 2);
- cell density ρ = long-range links / possible long-range edges;
- cell depth d = longest input→output path over non-zero edges (0 if disconnected);
- ``nn_mass`` = Σ over cell instances of ρ · width · d;
- ``nn_degree`` = mean over cell instances of width + long-range links per node.

Only spaces whose adapter defines ``cell_graph`` support them.
"""

from __future__ import annotations

from nasproxy_bench.benchmark import CellGraph
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec


def _graph(ctx: ProxyContext) -> CellGraph:
    graph = ctx.benchmark.cell_graph(ctx.arch)
    if graph is None:
        raise UnsupportedNetwork(f"{ctx.benchmark.name} has no cell graph; topology proxies need a cell-based space")
    return graph


def _live_edges(graph: CellGraph) -> list[tuple[int, int]]:
    return [e for e, op in graph.edges.items() if op not in graph.zero_ops]


def long_range_density(graph: CellGraph) -> tuple[int, float]:
    possible = [(s, t) for (s, t) in graph.edges if t - s >= 2]
    links = [(s, t) for (s, t) in _live_edges(graph) if t - s >= 2]
    return len(links), (len(links) / len(possible) if possible else 0.0)


def cell_depth(graph: CellGraph) -> int:
    """Longest path (in edges) from node 0 to the output node over non-zero edges."""
    longest: dict[int, int] = {0: 0}
    for target in range(1, graph.num_nodes):
        reach = [longest[s] + 1 for (s, t) in _live_edges(graph) if t == target and s in longest]
        if reach:
            longest[target] = max(reach)
    return longest.get(graph.num_nodes - 1, 0)


def nn_mass(ctx: ProxyContext) -> float:
    graph = _graph(ctx)
    _, density = long_range_density(graph)
    depth = cell_depth(graph)
    return float(sum(density * width * depth for width in graph.cell_widths))


def nn_degree(ctx: ProxyContext) -> float:
    graph = _graph(ctx)
    links, _ = long_range_density(graph)
    return float(sum(w + links / graph.num_nodes for w in graph.cell_widths) / len(graph.cell_widths))


PROXIES = (
    ProxySpec("nn_mass", nn_mass, "topology", "1", tasks=ALL_TASKS, needs_data=False, bn="none",
              description="NN-Mass of the cell graph (cell-based spaces only)"),
    ProxySpec("nn_degree", nn_degree, "topology", "1", tasks=ALL_TASKS, needs_data=False, bn="none",
              description="NN-Degree of the cell graph (cell-based spaces only)"),
)

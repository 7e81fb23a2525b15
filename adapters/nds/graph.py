"""The normal cell of an NDS cell space as a ``CellGraph`` (for the topology proxies nn_mass / nn_degree).

NDS cells have two inputs (the two previous cells) and an output that concatenates some nodes;
``CellGraph`` has one input node and one output node. Our adaptation: node 0 stands for both
cell inputs (an edge reading either input starts at node 0; when a node reads both, the two
edges become one edge, live if either op is), genotype node k is graph node k + 1, and the
output node receives a ``concat`` edge from every node in the concat list. The normal cell is
used (most cells of a network are normal); ``cell_widths`` lists every cell instance's width
(C doubled at each reduction cell), as the network builds them.
"""

from __future__ import annotations

from nasproxy_bench.adapters.nds.arch import CellArch
from nasproxy_bench.benchmark import CellGraph

ZERO_OPS = frozenset({"none"})


def normal_cell_graph(arch: CellArch) -> CellGraph:
    steps = len(arch.normal) // 2
    output = steps + 1
    edges: dict[tuple[int, int], str] = {}
    for position, (op, source) in enumerate(arch.normal):
        edge = (max(source - 1, 0), position // 2 + 1)  # inputs 0 and 1 -> node 0; state k >= 2 -> node k - 1
        if edge not in edges or edges[edge] in ZERO_OPS:
            edges[edge] = op
    for state in arch.normal_concat:
        edges[(max(state - 1, 0), output)] = "concat"
    widths, c = [], arch.width
    for i in range(arch.depth):
        if i in (arch.depth // 3, 2 * arch.depth // 3):
            c *= 2
        widths.append(c)
    return CellGraph(output + 1, edges, ZERO_OPS, tuple(widths))

"""An NAS-Bench-101 cell: a DAG of at most 7 vertices whose interior vertices carry operations.

Follows the rules of the official release (Ying et al., ICML'19; google-research/nasbench):
an upper-triangular 0/1 adjacency matrix (vertex 0 = input, last = output), one label per
vertex, at most 7 vertices and 9 edges. Vertices not on an input->output path are pruned
before anything else, and the canonical id is the official isomorphism-invariant module hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

INPUT, OUTPUT = "input", "output"
CONV3X3, CONV1X1, MAXPOOL3X3 = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
# Order of the official config['available_ops']: the hash labels interior vertices by index here.
OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)
MAX_VERTICES = 7
MAX_EDGES = 9


def _as_matrix(matrix: Any) -> list[list[int]]:
    """The matrix as lists of plain Python ints, or ValueError when it is not a square 0/1 matrix."""
    if hasattr(matrix, "tolist"):
        matrix = matrix.tolist()
    if not isinstance(matrix, (list, tuple)) or not matrix:
        raise ValueError("NB101 matrix must be a non-empty list of rows")
    size = len(matrix)
    rows: list[list[int]] = []
    for row in matrix:
        if not isinstance(row, (list, tuple)) or len(row) != size:
            raise ValueError(f"NB101 matrix must be square ({size} rows, each of {size} entries)")
        values = []
        for value in row:
            if isinstance(value, bool) or value not in (0, 1) or isinstance(value, float) and not value.is_integer():
                raise ValueError(f"NB101 matrix entries must be 0 or 1, got {value!r}")
            values.append(int(value))
        rows.append(values)
    return rows


def hash_module(matrix: Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """The official module hash of a (pruned) cell.

    Each vertex starts as md5 of ``str((out_degree, in_degree, label))``; then, as many times as
    there are vertices, it becomes md5 of its sorted in-neighbour hashes, ``|``, its sorted
    out-neighbour hashes, ``|``, its own hash; the result is md5 of ``str(sorted(hashes))``.
    Everything is a plain Python int/str: the repr of NumPy 2 scalars would change the strings.
    """
    n = len(matrix)
    in_degree = [sum(int(matrix[src][dst]) for src in range(n)) for dst in range(n)]
    out_degree = [sum(int(v) for v in matrix[src]) for src in range(n)]
    hashes = [
        hashlib.md5(str((out_degree[v], in_degree[v], int(labels[v]))).encode("utf-8")).hexdigest() for v in range(n)
    ]
    for _ in range(n):
        updated = []
        for v in range(n):
            ins = "".join(sorted(hashes[w] for w in range(n) if matrix[w][v]))
            outs = "".join(sorted(hashes[w] for w in range(n) if matrix[v][w]))
            updated.append(hashlib.md5(f"{ins}|{outs}|{hashes[v]}".encode()).hexdigest())
        hashes = updated
    return hashlib.md5(str(sorted(hashes)).encode("utf-8")).hexdigest()


def prune(matrix: list[list[int]], ops: list[str]) -> tuple[list[list[int]], list[str]]:
    """Drop every vertex not on a path from input to output; ValueError if no such path exists."""
    n = len(matrix)
    from_input, frontier = {0}, [0]
    while frontier:
        top = frontier.pop()
        for v in range(top + 1, n):
            if matrix[top][v] and v not in from_input:
                from_input.add(v)
                frontier.append(v)
    to_output, frontier = {n - 1}, [n - 1]
    while frontier:
        top = frontier.pop()
        for v in range(top):
            if matrix[v][top] and v not in to_output:
                to_output.add(v)
                frontier.append(v)
    keep = sorted(from_input & to_output)
    if 0 not in keep or n - 1 not in keep:
        raise ValueError("NB101 cell has no path from the input to the output vertex")
    return [[matrix[a][b] for b in keep] for a in keep], [ops[a] for a in keep]


@dataclass(frozen=True)
class NB101Spec:
    """A validated, pruned cell. Build it with ``NB101Spec.create`` (validates and prunes)."""

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    @classmethod
    def create(cls, matrix: Any, ops: Sequence[str]) -> NB101Spec:
        rows = _as_matrix(matrix)
        n = len(rows)
        if not isinstance(ops, (list, tuple)) or not all(isinstance(op, str) for op in ops):
            raise ValueError("NB101 ops must be a list of operation names")
        if len(ops) != n:
            raise ValueError(f"NB101 cell has a {n}x{n} matrix but {len(ops)} ops")
        if n > MAX_VERTICES:
            raise ValueError(f"NB101 cell has {n} vertices; at most {MAX_VERTICES} are allowed")
        if n < 2:
            raise ValueError("NB101 cell needs at least the input and the output vertex")
        for src in range(n):
            for dst in range(src + 1):
                if rows[src][dst]:
                    raise ValueError(
                        f"NB101 matrix has an edge {src}->{dst} on or below the diagonal; "
                        "a cell must be a DAG written upper-triangular (edges only from lower to higher vertex)"
                    )
        if ops[0] != INPUT or ops[-1] != OUTPUT:
            raise ValueError(f"NB101 ops must start with {INPUT!r} and end with {OUTPUT!r}, got {ops[0]!r} ... {ops[-1]!r}")
        for op in ops[1:-1]:
            if op not in OPS:
                raise ValueError(f"unknown NB101 operation {op!r}; expected one of {', '.join(OPS)}")
        pruned, kept_ops = prune(rows, list(ops))
        edges = sum(map(sum, pruned))
        if edges > MAX_EDGES:
            raise ValueError(f"NB101 cell has {edges} edges; at most {MAX_EDGES} are allowed")
        return cls(tuple(tuple(r) for r in pruned), tuple(kept_ops))

    @classmethod
    def from_json(cls, text: str) -> NB101Spec:
        """Parse ``{"matrix": [[...]], "ops": [...]}``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"NB101 architecture is neither a known hash nor JSON ({exc.msg})") from None
        if not isinstance(data, dict) or "matrix" not in data or "ops" not in data:
            raise ValueError('NB101 JSON architecture must be an object {"matrix": [[...]], "ops": [...]}')
        return cls.create(data["matrix"], data["ops"])

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    def labels(self) -> list[int]:
        """Integer labels of the official hash: -1 input, -2 output, else the index in ``OPS``."""
        return [-1] + [OPS.index(op) for op in self.ops[1:-1]] + [-2]

    def hash(self) -> str:
        return hash_module(self.matrix, self.labels())

    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    def to_json(self) -> str:
        return json.dumps({"matrix": [list(r) for r in self.matrix], "ops": list(self.ops)}, separators=(",", ":"))

"""NB101 cells: validation, pruning, the official module hash, isomorphism invariance."""

from __future__ import annotations

import hashlib
import itertools
import json

import numpy as np
import pytest

from nasproxy_bench.adapters.nb101.spec import NB101Spec, hash_module
from tests.nb101_fixtures import OFFICIAL_ROWS

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_two_vertex_hash_by_hand():
    # input -> output: degrees (out, in, label) are (1, 0, -1) and (0, 1, -2); two rounds of updates
    h = [md5("(1, 0, -1)"), md5("(0, 1, -2)")]
    for _ in range(2):
        h = [md5(f"|{h[1]}|{h[0]}"), md5(f"{h[0]}||{h[1]}")]
    assert NB101Spec.create([[0, 1], [0, 0]], ["input", "output"]).hash() == md5(str(sorted(h)))


@pytest.mark.parametrize(("digest", "matrix", "ops", "_params"), OFFICIAL_ROWS)
def test_official_hashes(digest, matrix, ops, _params):
    assert NB101Spec.create(matrix, ops).hash() == digest


def test_numpy_matrix_gives_the_same_hash():
    digest, matrix, ops, _ = OFFICIAL_ROWS[1]
    assert NB101Spec.create(np.array(matrix, dtype=np.int64), ops).hash() == digest
    # hash_module itself on NumPy input would see numpy scalars; the spec stores plain ints
    assert all(type(v) is int for row in NB101Spec.create(np.array(matrix), ops).matrix for v in row)


def _permuted(matrix, ops, order):
    """Relabel interior vertices: new vertex i is old vertex order[i] (input/output fixed)."""
    n = len(matrix)
    new = [[matrix[order[a]][order[b]] for b in range(n)] for a in range(n)]
    return new, [ops[order[a]] for a in range(n)]


def test_isomorphic_relabelings_share_the_hash():
    digest, matrix, ops, _ = OFFICIAL_ROWS[1]
    n = len(matrix)
    seen = 0
    for perm in itertools.permutations(range(1, n - 1)):
        new, new_ops = _permuted(matrix, ops, [0, *perm, n - 1])
        if any(new[a][b] for a in range(n) for b in range(a + 1)):
            continue  # not upper-triangular under this labelling
        seen += 1
        assert NB101Spec.create(new, new_ops).hash() == digest
    assert seen >= 2  # the identity and at least one other topological order


def test_swapping_parallel_branches():
    matrix = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    a = NB101Spec.create(matrix, ["input", C3, C1, "output"])
    b = NB101Spec.create(matrix, ["input", C1, C3, "output"])
    c = NB101Spec.create(matrix, ["input", C3, C3, "output"])
    assert a.hash() == b.hash() != c.hash()


def test_pruning_removes_dangling_vertices():
    digest, matrix, ops, _ = OFFICIAL_ROWS[0]  # 4 vertices
    # 6 vertices: vertex 3 only reachable from the input, vertex 4 only reaches the output
    big = [[0] * 6 for _ in range(6)]
    for a, b in ((0, 1), (0, 2), (1, 2), (2, 5), (0, 3), (4, 5)):
        big[a][b] = 1
    spec = NB101Spec.create(big, ["input", ops[1], ops[2], C3, C1, "output"])
    assert spec.num_vertices == 4
    assert spec.matrix == tuple(tuple(r) for r in matrix)
    assert spec.hash() == digest


def test_json_round_trip():
    digest, matrix, ops, _ = OFFICIAL_ROWS[2]
    spec = NB101Spec.from_json(json.dumps({"matrix": matrix, "ops": ops}))
    assert NB101Spec.from_json(spec.to_json()) == spec
    assert spec.hash() == digest


@pytest.mark.parametrize(("matrix", "ops", "message"), [
    ([[0, 1], [0]], ["input", "output"], "square"),
    ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
    ("oops", ["input", "output"], "list of rows"),
    ([[0, 1], [0, 0]], ["input", C3, "output"], "3 ops"),
    ([[0, 1, 0], [0, 0, 1], [0, 1, 0]], ["input", C3, "output"], "upper-triangular"),
    ([[1, 1], [0, 0]], ["input", "output"], "upper-triangular"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown NB101 operation 'conv5x5'"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [C3, C3, "output"], "must start with 'input'"),
    ([[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, C3, "output"], "no path"),
    ([[0] * 8 for _ in range(8)], ["input"] + [C3] * 6 + ["output"], "8 vertices"),
    ([[1 if b > a else 0 for b in range(7)] for a in range(7)], ["input"] + [C3] * 5 + ["output"], "21 edges"),
])
def test_bad_cells_are_one_line_value_errors(matrix, ops, message):
    with pytest.raises(ValueError, match=message) as info:
        NB101Spec.create(matrix, ops)
    assert "\n" not in str(info.value)


def test_bad_json_is_a_value_error():
    with pytest.raises(ValueError, match="neither a known hash nor JSON"):
        NB101Spec.from_json("{matrix")
    with pytest.raises(ValueError, match='"matrix"'):
        NB101Spec.from_json('{"ops": []}')


def test_hash_module_is_label_sensitive():
    matrix = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert hash_module(matrix, [-1, 0, -2]) != hash_module(matrix, [-1, 1, -2])

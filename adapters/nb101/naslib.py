"""NASLib's NB101 architecture keys (NAS-Bench-Suite-Zero reference files), as our cells.

A key is the string of a Python tuple: the 7x7 adjacency matrix flattened row by row (49
entries), then one code per vertex in NASLib's order ``[input, output, maxpool3x3, conv1x1,
conv3x3]``. Different keys can be the same cell (unpruned or relabelled variants).
"""

from __future__ import annotations

import ast

from nasproxy_bench.adapters.nb101.spec import CONV1X1, CONV3X3, INPUT, MAXPOOL3X3, OUTPUT, NB101Spec

NASLIB_OPS = (INPUT, OUTPUT, MAXPOOL3X3, CONV1X1, CONV3X3)


def decode_key(key: str) -> NB101Spec:
    """The (validated, pruned) cell of a NASLib NB101 key; ValueError if it is not one."""
    try:
        values = ast.literal_eval(key)
    except (ValueError, SyntaxError):
        raise ValueError(f"NASLib NB101 key {key[:40]!r}... is not a tuple of ints") from None
    if not isinstance(values, tuple) or len(values) != 56 or not all(isinstance(v, int) for v in values):
        size = len(values) if isinstance(values, tuple) else type(values).__name__
        raise ValueError(f"NASLib NB101 key must hold 49 matrix entries and 7 op codes, got {size}")
    matrix = [list(values[row * 7:(row + 1) * 7]) for row in range(7)]
    codes = values[49:]
    if any(not 0 <= c < len(NASLIB_OPS) for c in codes):
        raise ValueError(f"NASLib NB101 op codes must be 0..{len(NASLIB_OPS) - 1}, got {codes}")
    return NB101Spec.create(matrix, [NASLIB_OPS[c] for c in codes])

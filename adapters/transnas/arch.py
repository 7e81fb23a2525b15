"""TransNAS-Bench-101 architecture strings: parse, print, enumerate, mutate.

Micro (cell) space: ``64-41414-a_bc_def``. The fixed macro skeleton ``41414`` is followed by
the cell code: node 1 takes ``a`` from node 0, node 2 takes ``b, c`` from nodes 0, 1 and node
3 takes ``d, e, f`` from nodes 0, 1, 2; operations ``0`` zeroize, ``1`` skip, ``2`` conv1x1,
``3`` conv3x3 (4^6 = 4,096 cells).

Macro space: ``64-<code>-basic``, 4 to 6 modules of two ResNet basic blocks, each module
``1`` keeps the shape, ``2`` doubles the channels, ``3`` halves the resolution, ``4`` does both;
the official space has 1 to 4 downsamplings and 1 to 3 channel doublings (3,256 codes).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

BASE_CHANNELS = 64
MICRO_SKELETON = "41414"
MICRO_OPS = {"0": "zeroize", "1": "skip", "2": "conv1x1", "3": "conv3x3"}
MICRO_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))  # (from, to) in string order
MACRO_MODULES = {"1": "keep", "2": "double channels", "3": "downsample", "4": "double + downsample"}
MACRO_LENGTHS = (4, 5, 6)
MACRO_DOWNSAMPLES = (1, 4)  # inclusive bounds
MACRO_DOUBLINGS = (1, 3)


def _split(text: str, what: str) -> tuple[str, str, str]:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"empty {what} architecture string")
    parts = text.strip().split("-")
    if len(parts) != 3:
        raise ValueError(f"{what} string {text!r} must read '64-<modules>-<cell>'")
    if parts[0] != str(BASE_CHANNELS):
        raise ValueError(f"{what} string {text!r}: base width must be {BASE_CHANNELS}, got {parts[0]!r}")
    return parts[0], parts[1], parts[2]


@dataclass(frozen=True)
class MicroArch:
    """A micro cell: the operation digit of each of the 6 edges, in string order."""

    ops: str

    def __post_init__(self) -> None:
        if len(self.ops) != len(MICRO_EDGES) or any(c not in MICRO_OPS for c in self.ops):
            raise ValueError(f"a micro cell is 6 digits from 0-3, got {self.ops!r}")

    @classmethod
    def parse(cls, text: str) -> MicroArch:
        _, modules, cell = _split(text, "micro")
        if modules != MICRO_SKELETON:
            raise ValueError(f"micro string {text!r}: module code must be {MICRO_SKELETON}, got {modules!r}")
        nodes = cell.split("_")
        if [len(n) for n in nodes] != [1, 2, 3]:
            raise ValueError(f"micro string {text!r}: cell must read a_bc_def (1, 2 and 3 digits)")
        return cls("".join(nodes))

    def __str__(self) -> str:
        o = self.ops
        return f"{BASE_CHANNELS}-{MICRO_SKELETON}-{o[0]}_{o[1:3]}_{o[3:]}"

    def node_inputs(self) -> list[str]:
        """Per node 1..3, the op digits of its incoming edges from nodes 0..node-1 (official 'cell code')."""
        return [self.ops[0], self.ops[1:3], self.ops[3:]]

    @staticmethod
    def enumerate() -> list[MicroArch]:
        return [MicroArch("".join(t)) for t in itertools.product("0123", repeat=len(MICRO_EDGES))]

    def mutate(self, rng: random.Random) -> MicroArch:
        edge = rng.randrange(len(self.ops))
        new = rng.choice([c for c in MICRO_OPS if c != self.ops[edge]])
        return MicroArch(self.ops[:edge] + new + self.ops[edge + 1:])


def _valid_macro(code: str) -> str | None:
    """None if ``code`` is in the official macro space, else why not."""
    if len(code) not in MACRO_LENGTHS:
        return f"{len(code)} modules (allowed: {MACRO_LENGTHS[0]}-{MACRO_LENGTHS[-1]})"
    if any(c not in MACRO_MODULES for c in code):
        return "module digits must be 1-4"
    downs = sum(c in "34" for c in code)
    doubles = sum(c in "24" for c in code)
    if not MACRO_DOWNSAMPLES[0] <= downs <= MACRO_DOWNSAMPLES[1]:
        return f"{downs} downsampling modules (allowed {MACRO_DOWNSAMPLES[0]}-{MACRO_DOWNSAMPLES[1]})"
    if not MACRO_DOUBLINGS[0] <= doubles <= MACRO_DOUBLINGS[1]:
        return f"{doubles} channel doublings (allowed {MACRO_DOUBLINGS[0]}-{MACRO_DOUBLINGS[1]})"
    return None


@dataclass(frozen=True)
class MacroArch:
    """A macro skeleton: one digit per module."""

    code: str

    def __post_init__(self) -> None:
        problem = _valid_macro(self.code)
        if problem:
            raise ValueError(f"macro code {self.code!r}: {problem}")

    @classmethod
    def parse(cls, text: str) -> MacroArch:
        _, modules, cell = _split(text, "macro")
        if cell != "basic":
            raise ValueError(f"macro string {text!r}: the block must be 'basic', got {cell!r}")
        return cls(modules)

    def __str__(self) -> str:
        return f"{BASE_CHANNELS}-{self.code}-basic"

    @staticmethod
    def enumerate() -> list[MacroArch]:
        codes = ("".join(t) for n in MACRO_LENGTHS for t in itertools.product("1234", repeat=n))
        return [MacroArch(c) for c in sorted(codes) if _valid_macro(c) is None]

    def neighbours(self) -> list[MacroArch]:
        """Codes one edit away (change, insert or delete a module) that stay in the space."""
        found = set()
        for i in range(len(self.code) + 1):
            for d in MACRO_MODULES:
                found.add(self.code[:i] + d + self.code[i:])
                if i < len(self.code):
                    found.add(self.code[:i] + d + self.code[i + 1:])
            if i < len(self.code):
                found.add(self.code[:i] + self.code[i + 1:])
        found.discard(self.code)
        return [MacroArch(c) for c in sorted(found) if _valid_macro(c) is None]

    def mutate(self, rng: random.Random) -> MacroArch:
        return rng.choice(self.neighbours())

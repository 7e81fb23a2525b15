"""NATS-Bench size-space architectures: five channel counts, written ``8:16:32:64:64``.

Position 0 is the stem and the stage-1 cell, 1 the first residual reduction, 2 the stage-2
cell, 3 the second reduction, 4 the stage-3 cell. The official index reads the string as a
base-8 number with digit ``c/8 - 1`` per position, first position most significant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

CHANNELS = (8, 16, 24, 32, 40, 48, 56, 64)
NUM_LAYERS = 5
NUM_ARCHS = len(CHANNELS) ** NUM_LAYERS  # 32,768


@dataclass(frozen=True)
class NATSSizeArch:
    channels: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.channels) != NUM_LAYERS:
            raise ValueError(f"a NATS-Bench size-space architecture has {NUM_LAYERS} channel counts, got {len(self.channels)}")
        for position, c in enumerate(self.channels):
            if c not in CHANNELS:
                raise ValueError(f"channel count {c} at position {position} is not one of {', '.join(map(str, CHANNELS))}")

    def __str__(self) -> str:
        return ":".join(str(c) for c in self.channels)

    @classmethod
    def parse(cls, text: str) -> NATSSizeArch:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty NATS-Bench size-space architecture string; expected e.g. 8:16:32:64:64")
        tokens = text.strip().split(":")
        if len(tokens) != NUM_LAYERS:
            raise ValueError(
                f"{text!r} has {len(tokens)} channel counts separated by ':', expected {NUM_LAYERS} (e.g. 8:16:32:64:64)"
            )
        channels = []
        for position, token in enumerate(tokens):
            token = token.strip()
            if not token.isdigit():
                raise ValueError(f"channel count {token!r} at position {position} of {text!r} is not a whole number")
            channels.append(int(token))
        return cls(tuple(channels))

    @property
    def index(self) -> int:
        """The official NATS-sss index."""
        value = 0
        for c in self.channels:
            value = value * len(CHANNELS) + CHANNELS.index(c)
        return value

    @classmethod
    def from_index(cls, index: int) -> NATSSizeArch:
        if not 0 <= index < NUM_ARCHS:
            raise ValueError(f"NATS-sss index {index} out of range 0..{NUM_ARCHS - 1}")
        digits = []
        for _ in range(NUM_LAYERS):
            index, digit = divmod(index, len(CHANNELS))
            digits.append(CHANNELS[digit])
        return cls(tuple(reversed(digits)))

    def neighbours(self) -> list[NATSSizeArch]:
        """Every architecture that differs in exactly one position."""
        return [
            NATSSizeArch(self.channels[:p] + (c,) + self.channels[p + 1:])
            for p in range(NUM_LAYERS) for c in CHANNELS if c != self.channels[p]
        ]


def enumerate_archs() -> list[str]:
    """All 32,768 canonical strings in official index order."""
    return [":".join(map(str, channels)) for channels in itertools.product(CHANNELS, repeat=NUM_LAYERS)]

"""Errors a user can act on.

Every error that reaches the command line is a ``NasproxyError``: the CLI prints its message
on one line and exits non-zero. Messages say what went wrong and what to do about it.
"""

from __future__ import annotations


class NasproxyError(Exception):
    """A problem the user can fix (bad input, missing data, busy store)."""


class DataError(NasproxyError):
    """A benchmark or input file is missing, truncated or malformed."""


class UnknownNameError(NasproxyError):
    """An unknown benchmark, dataset, proxy or metric name."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(known))}")


class StoreBusyError(NasproxyError):
    """Another process holds the result store's lock."""


class UnsupportedNetwork(Exception):
    """Raised by a proxy that does not apply to the given network or task."""


class MissingGroundTruth(DataError):
    """A benchmark whose networks can be built and scored, but whose accuracy table is absent.

    Runs still score and store; reports skip its correlations and print this message.
    """

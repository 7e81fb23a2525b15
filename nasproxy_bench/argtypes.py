"""argparse value types shared by the subcommands: bad text becomes argparse's usage error naming the option."""

from __future__ import annotations

import argparse


def _int_at_least(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "a non-negative integer")


def seed_list(text: str) -> list[int]:
    """``0-9``, ``0,2,5`` or a mix (``0-4,7``) -> the seeds in order, without repeats.

    Empty text gives no seeds, which ``runner.require_seeds`` refuses in one line (not argparse's usage).
    """
    seeds: list[int] = []
    try:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            low, sep, high = part.partition("-")
            if sep and low:
                first, last = int(low), int(high)
                if last < first:
                    raise ValueError
                seeds.extend(range(first, last + 1))
            else:
                seeds.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seeds like 0-9 or 0,1,2, got {text!r}") from None
    return list(dict.fromkeys(seeds))

"""Pinning torch's CPU thread count for a block of work.

The thread count sets the order of float sums, so a trained proxy (GenNAS) scores an architecture
differently at 1 and 2 threads; workers, cost probes and ``check`` pin it to compare like with like.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(count)``; the previous count is restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)

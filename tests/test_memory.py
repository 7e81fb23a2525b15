"""Process memory figures: what a run reports about the memory it needed."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from nasproxy_bench.memory import high_water_mib, release_freed_memory, rss_mib


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and getrusage units are Linux's")
def test_high_water_mark_keeps_the_peak_that_memory_after_an_architecture_loses():
    """A run's 'peak' must see memory used inside an evaluation, not only what is left after it."""
    block = np.ones(300 * 2**20 // 8)  # 300 MiB, touched
    during = rss_mib()
    del block
    release_freed_memory()
    after = rss_mib()
    peak = high_water_mib()
    assert during - after > 250
    assert peak >= during - 1  # ru_maxrss and statm round differently by a page or so
    assert math.isfinite(peak)

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


LIMITED_CHILD = """
import torch
from nasproxy_bench.memory import limit_address_space

with open("/proc/self/status") as handle:
    vm_kib = next(int(line.split()[1]) for line in handle if line.startswith("VmSize:"))
limit_address_space((vm_kib * 1024 + 512 * 2**20) / 2**30)
try:
    torch.ones(2**30).sum()  # 4 GiB: what runner.evaluate would catch and record as the proxy's error
    outcome = "allocated"
except RuntimeError as exc:
    outcome = "refused" if "allocate" in str(exc) else "other"
print(outcome, float(torch.ones(2**24).sum()))  # 64 MiB still fits: the process goes on
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS semantics and /proc are Linux's")
def test_a_memory_limit_turns_an_oversized_evaluation_into_an_error_record():
    """Without a cap the OS kills the whole run; with one the proxy records an error and the process goes on."""
    import subprocess

    done = subprocess.run([sys.executable, "-c", LIMITED_CHILD], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["refused", str(float(2**24))]


def test_memory_limit_refuses_a_non_positive_size():
    from nasproxy_bench.errors import NasproxyError
    from nasproxy_bench.memory import limit_address_space

    with pytest.raises(NasproxyError, match="positive"):
        limit_address_space(0)

"""run --executor ray: the same records as sequential and --workers 2 runs; dead actors retried, then error records."""

from __future__ import annotations

import math

import pytest

from nasproxy_bench.cli import main
from tests.test_execution import PROXIES, assert_same_scores, records, run

ray = pytest.importorskip("ray")


# As test_execution's plugin, but the marker sits beside the module: Ray actors do not see the test's environment.
DYING_PLUGIN = '''
import os
import signal
from pathlib import Path
from nasproxy_bench.registry import proxy

MARKER = Path(__file__).with_name("died")

@proxy("dies_once", family="structural", version="1", needs_data=False)
def dies_once(ctx):
    if not MARKER.exists():
        MARKER.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return float(sum(p.numel() for p in ctx.model.parameters()))

@proxy("always_dies", family="structural", version="1", needs_data=False)
def always_dies(ctx):
    os._exit(9)
'''


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module (the executor joins it and leaves it running)."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow  # Ray start and actor imports: ~60 s under shared load
def test_ray_run_stores_the_same_records_as_sequential_and_two_workers(fake_root, tmp_path, local_ray, one_thread):
    assert run(fake_root, tmp_path / "seq/s.h5", PROXIES, 1) == 0
    assert run(fake_root, tmp_path / "ray/s.h5", PROXIES, 2, "--executor", "ray") == 0
    sequential, on_ray = records(tmp_path / "seq/s.h5"), records(tmp_path / "ray/s.h5")
    assert len(sequential) == 36
    assert_same_scores(sequential, on_ray)
    assert ray.is_initialized()  # a Ray the executor did not start is left running


@pytest.mark.slow
def test_pool_and_ray_agree_record_by_record(fake_root, tmp_path, local_ray, one_thread):
    assert run(fake_root, tmp_path / "pool/s.h5", PROXIES, 2) == 0
    assert run(fake_root, tmp_path / "ray/s.h5", PROXIES, 2, "--executor", "ray") == 0
    assert_same_scores(records(tmp_path / "pool/s.h5"), records(tmp_path / "ray/s.h5"))


@pytest.mark.slow
def test_a_killed_ray_worker_is_retried_then_recorded_as_error(fake_root, tmp_path, monkeypatch, local_ray, one_thread, capsys):
    (tmp_path / "dying_ray.py").write_text(DYING_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))  # the actors get the driver's sys.path
    marker = tmp_path / "died"
    # killed once (SIGKILL from inside the actor): retried on a fresh actor, every record ok
    assert run(fake_root, tmp_path / "once/s.h5", "params,dies_once", 2, "--executor", "ray", "--plugin", "dying_ray") == 0
    assert marker.read_text() == "died"
    once = records(tmp_path / "once/s.h5")
    assert len(once) == 24 and all(status == "ok" for _, status, _ in once.values())
    # dies every time: 3 attempts, then error records naming the reason; the run finishes
    capsys.readouterr()
    assert run(fake_root, tmp_path / "always/s.h5", "params,always_dies", 2, "--executor", "ray", "--plugin", "dying_ray") == 0
    assert "24 proxy errors" in capsys.readouterr().out
    for (_, arch), (score, status, message) in records(tmp_path / "always/s.h5").items():
        assert status == "error" and math.isnan(score), arch
        assert message.startswith("Ray worker died (") and "on all 3 attempts at a chunk of" in message, message


def test_missing_ray_is_a_one_line_error_naming_the_extra(fake_root, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert run(fake_root, tmp_path / "s.h5", "params", 2, "--executor", "ray") == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: --executor ray needs Ray, which is not installed; pip install 'nasproxy-bench[ray]'"
    assert main(["run", "--all", "--executor", "ray", "--data-root", str(fake_root), "--store", str(tmp_path / "a.h5")]) == 2
    assert capsys.readouterr().err.strip() == err  # before any planning

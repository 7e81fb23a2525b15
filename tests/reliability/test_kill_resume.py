"""Item 8 (kills): kill -9 or Ctrl-C at any point, then the same command: scores bit-identical to an uninterrupted run.

Each scenario kills a real ``nasproxy-bench run`` subprocess at several points (counted in
finished records, read concurrently from the store), reruns the same command after each
kill, and compares every stored score byte for byte with an uninterrupted run.
"""

from __future__ import annotations

import signal
import time

import pytest

from nasproxy_bench.store import ResultStore
from tests.reliability.conftest import cli_process, run_args, stored_scores

N = 40
PROXIES = "params,synflow,slow_weight_sum"
TOTAL = N * 3


def args(root, store, checkpoint, workers=1):
    extra = ("--plugin", "reliability_slow", *(("--checkpoint-every", checkpoint) if checkpoint else ()),
             *(("--workers", str(workers)) if workers > 1 else ()))
    return run_args(root, store, n=N, proxies=PROXIES, extra=extra)


def finish(root, store, plugin, checkpoint, workers=1):
    process = cli_process(*args(root, store, checkpoint, workers), root=root, extra_path=plugin)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    return out, err


@pytest.fixture(scope="module")
def uninterrupted(fake_root, slow_plugin, tmp_path_factory):
    store = tmp_path_factory.mktemp("clean") / "clean.h5"
    finish(fake_root, store, slow_plugin, None)
    scores = stored_scores(store)
    assert len(scores) == TOTAL
    return scores


def records(store) -> int:
    return ResultStore(store).record_count() if store.exists() or store.with_name(store.name + ".journal").exists() else 0


def interrupt_at(root, store, plugin, checkpoint, at: int, sig: signal.Signals, workers: int = 1) -> int:
    """Start the run, send ``sig`` once ``at`` records are finished; the records finished at that moment."""
    process = cli_process(*args(root, store, checkpoint, workers), root=root, extra_path=plugin)
    deadline = time.time() + 300
    while (done := records(store)) < at:
        assert process.poll() is None, f"run ended before {at} records: {process.stderr.read()}"
        assert time.time() < deadline
        time.sleep(0.02)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert process.returncode == 130 and "interrupted: finished results are saved" in err, err
        assert "Traceback" not in err
    elif sig == signal.SIGTERM:  # a scheduler's time limit: unwinds like Ctrl-C
        assert process.returncode == 143 and "terminated (SIGTERM): finished results are saved" in err, err
        assert "Traceback" not in err
    else:
        assert process.returncode == -signal.SIGKILL
    return done


SCENARIOS = {
    # name: (--checkpoint-every, signal, kill points in finished records of TOTAL)
    "kill-9, checkpoint every 0.2 s": ("0.2", signal.SIGKILL, (6, 60, 114)),
    "kill-9, default interval (60 s)": (None, signal.SIGKILL, (6, 60, 114)),
    "kill-9, checkpointing off (inf)": ("inf", signal.SIGKILL, (6, 60, 114)),
    "Ctrl-C, default interval": (None, signal.SIGINT, (30, 90)),
    "SIGTERM, default interval": (None, signal.SIGTERM, (30, 90)),
}


@pytest.mark.slow
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_interrupted_runs_resume_to_identical_scores(fake_root, slow_plugin, uninterrupted, tmp_path, scenario):
    checkpoint, sig, points = SCENARIOS[scenario]
    store = tmp_path / "s.h5"
    seen = []
    for at in points:
        seen.append(interrupt_at(fake_root, store, slow_plugin, checkpoint, at, sig))
        assert records(store) >= seen[-1]  # nothing finished before the kill is lost
    assert all(0 < s < TOTAL for s in seen)
    out, _ = finish(fake_root, store, slow_plugin, checkpoint)
    recomputed = int(out.split(" scores computed")[0].rsplit("\n", 1)[-1].split(": ")[-1])
    assert recomputed < TOTAL - seen[-1] + 3  # only the rest (and at most the architecture in flight) is computed
    resumed = stored_scores(store)
    assert resumed == uninterrupted  # every score bit-identical, statuses equal, no record missing or extra
    print(f"{scenario}: interrupted at {seen} of {TOTAL} records, {len(resumed)} records compared, all identical")


@pytest.mark.slow
def test_killed_driver_of_a_two_worker_run_resumes_to_identical_scores(fake_root, slow_plugin, tmp_path):
    """kill -9, then SIGTERM, of the driver of a ``--workers 2`` run (its workers die with it): the rerun completes the store
    and every score equals an uninterrupted two-worker run's, bit for bit."""
    clean = tmp_path / "clean.h5"
    finish(fake_root, clean, slow_plugin, "0.2", workers=2)
    reference = stored_scores(clean)
    assert len(reference) == TOTAL
    store = tmp_path / "s.h5"
    seen = [interrupt_at(fake_root, store, slow_plugin, "0.2", at, sig, workers=2)
            for at, sig in ((20, signal.SIGKILL), (80, signal.SIGTERM))]  # SIGTERM: the pool stops its workers
    assert all(0 < s < TOTAL for s in seen)
    finish(fake_root, store, slow_plugin, "0.2", workers=2)
    assert stored_scores(store) == reference

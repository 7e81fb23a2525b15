"""run --workers N: same records as a sequential run, dead workers retried, then error records."""

from __future__ import annotations

import math

import pytest

from nasproxy_bench.cli import main
from nasproxy_bench.store import STATUS_ERROR, STATUS_OK, ResultStore

PROXIES = "params,synflow,naswot"

# Plugin proxies that end their worker process: SIGKILL once (marker file absent), or exit every time.
DYING_PLUGIN = '''
import os
import signal
from pathlib import Path
from nasproxy_bench.registry import proxy

@proxy("dies_once", family="structural", version="1", needs_data=False)
def dies_once(ctx):
    marker = Path(os.environ["DIES_ONCE_MARKER"])
    if not marker.exists():
        marker.write_text("died")
        os.kill(os.getpid(), signal.SIGKILL)
    return float(sum(p.numel() for p in ctx.model.parameters()))

@proxy("always_dies", family="structural", version="1", needs_data=False)
def always_dies(ctx):
    os._exit(9)
'''


def run(fake_root, store, proxies: str, workers: int, *extra: str) -> int:
    return main(["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", proxies, "--n", "12", "--batch-size", "8",
                 "--data-root", str(fake_root), "--store", str(store), "--reports", str(store.parent / "r"), "--no-progress",
                 "--workers", str(workers), *extra])


def records(store) -> dict[tuple[str, str], tuple[float, str, str]]:
    return {(path, arch): (r.score, r.status, r.message)
            for path, group in ResultStore(store).groups.items() for arch, r in group.records.items()}


def assert_same_scores(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key, (score, status, _) in a.items():
        other_score, other_status, _ = b[key]
        assert status == other_status, key
        assert score == other_score or (math.isnan(score) and math.isnan(other_score)), (key, score, other_score)


def test_two_workers_store_the_same_records_as_a_sequential_run(fake_root, tmp_path, one_thread):
    assert run(fake_root, tmp_path / "seq/s.h5", PROXIES, 1) == 0
    assert run(fake_root, tmp_path / "par/s.h5", PROXIES, 2) == 0
    sequential, parallel = records(tmp_path / "seq/s.h5"), records(tmp_path / "par/s.h5")
    assert len(sequential) == 36 and all(status == STATUS_OK for _, status, _ in sequential.values())
    assert_same_scores(sequential, parallel)
    # rerunning with workers resumes: nothing left to compute, nothing changed
    assert run(fake_root, tmp_path / "par/s.h5", PROXIES, 2) == 0
    assert records(tmp_path / "par/s.h5") == parallel


@pytest.mark.slow
def test_a_worker_killed_mid_chunk_is_retried_and_the_store_is_complete(fake_root, tmp_path, monkeypatch, one_thread):
    (tmp_path / "dying_once.py").write_text(DYING_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    marker = tmp_path / "died"
    monkeypatch.setenv("DIES_ONCE_MARKER", str(marker))
    assert run(fake_root, tmp_path / "par/s.h5", PROXIES + ",dies_once", 2, "--plugin", "dying_once") == 0
    assert marker.read_text() == "died"  # a worker really did die
    marker.write_text("died")  # the sequential reference must not die (it would take the driver with it)
    assert run(fake_root, tmp_path / "seq/s.h5", PROXIES + ",dies_once", 1, "--plugin", "dying_once") == 0
    parallel, sequential = records(tmp_path / "par/s.h5"), records(tmp_path / "seq/s.h5")
    assert len(parallel) == 48 and all(status == STATUS_OK for _, status, _ in parallel.values())
    assert_same_scores(sequential, parallel)


@pytest.mark.slow
def test_a_worker_that_always_dies_gives_error_records_and_the_run_finishes(fake_root, tmp_path, monkeypatch, capsys):
    (tmp_path / "dying_always.py").write_text(DYING_PLUGIN)  # a module name of its own: imports are cached
    monkeypatch.syspath_prepend(str(tmp_path))
    code = run(fake_root, tmp_path / "s.h5", "params,always_dies", 2, "--plugin", "dying_always")
    assert code == 0  # proxy errors are counted in the summary line, as for a proxy that raises
    out = capsys.readouterr().out
    assert "nb201/cifar10: 24 scores computed" in out and "24 proxy errors" in out
    stored = records(tmp_path / "s.h5")
    assert len(stored) == 24
    for (_, arch), (score, status, message) in stored.items():
        assert status == STATUS_ERROR and math.isnan(score), arch
        assert message.startswith("worker process exited with code 9 on all 3 attempts at a chunk of"), message


@pytest.mark.slow
def test_a_setup_error_in_a_worker_is_the_same_one_line_error_as_sequentially(fake_root, tmp_path, capsys):
    root = tmp_path / "no_inputs"
    (root / "benchmarks/nb201").mkdir(parents=True)
    (root / "benchmarks/nb201/nb201.csv").symlink_to(fake_root / "benchmarks/nb201/nb201.csv")
    messages = []
    for workers in (1, 2):
        assert run(root, tmp_path / f"w{workers}/s.h5", "naswot", workers) == 2
        messages.append(capsys.readouterr().err.strip())
    assert messages[0].startswith("error: ") and "\n" not in messages[0]
    assert messages[1] == messages[0]


def test_death_reasons_name_the_signal_or_exit_code():
    from nasproxy_bench.execution.pool import death_reason

    assert death_reason(-9) == "worker process killed by SIGKILL"
    assert death_reason(-15) == "worker process killed by SIGTERM"
    assert death_reason(3) == "worker process exited with code 3"


def test_a_network_that_cannot_be_built_gives_error_records_and_the_run_goes_on(fake_root, tmp_path, monkeypatch, capsys):
    """An allocation failure while building (a --memory-limit run) used to end the whole run at that architecture."""
    from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark

    victim = NB201Benchmark(fake_root).sample(12, 0)[3]
    build = NB201Benchmark.build

    def failing_build(self, arch, dataset):
        if arch == victim:
            raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1440000 bytes.")
        return build(self, arch, dataset)

    monkeypatch.setattr(NB201Benchmark, "build", failing_build)
    assert run(fake_root, tmp_path / "s.h5", "params,synflow", 1) == 0
    stored = records(tmp_path / "s.h5")
    assert len(stored) == 24
    for (_, arch), (score, status, message) in stored.items():
        if arch == victim:
            assert status == STATUS_ERROR and math.isnan(score)
            assert message == "building the network failed: RuntimeError: DefaultCPUAllocator: can't allocate memory: " \
                              "you tried to allocate 1440000 bytes."
        else:
            assert status == STATUS_OK, (arch, message)

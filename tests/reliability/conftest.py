"""Helpers of the reliability catalogue: the CLI in-process, store fingerprints, small mounts."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import pytest

from nasproxy_bench.cli import main

REPO = Path(__file__).resolve().parents[2]


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    """Run the CLI in this process; (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def run_args(root: Path, store: Path | str, *, n: int = 4, proxies: str = "params", extra: tuple[str, ...] = ()) -> list[str]:
    return ["run", "--benchmark", "nb201", "--dataset", "cifar10", "--proxies", proxies, "--n", str(n), "--no-progress",
            "--data-root", str(root), "--store", str(store), "--reports", str(Path(store).parent / "reports"), *extra]


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def stored_scores(path: Path) -> dict[tuple[str, str], tuple[bytes, str]]:
    """(group, arch) -> (score bytes, status) read straight from the HDF5 file (bit-exact compare)."""
    out = {}
    with h5py.File(path, "r") as h5:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and "arch" in obj:
                for arch, score, status in zip(obj["arch"].asstr()[()], obj["score"][()], obj["status"].asstr()[()],
                                               strict=True):
                    out[(name, arch)] = (score.tobytes(), status)
        h5.visititems(visit)
    return out


SLOW_PLUGIN = """
import os
import time

from nasproxy_bench.registry import proxy


@proxy("slow_weight_sum", family="structural", version="1", needs_data=False)
def slow_weight_sum(ctx):
    # a known pace (so a kill lands mid-run) and a value that depends on the seeded initialisation
    time.sleep(float(os.environ.get("RELIABILITY_SLOW_S", "0.05")))
    return float(sum(p.detach().double().sum() for p in ctx.model.parameters()))
"""


@pytest.fixture(scope="session")
def slow_plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the plugin module ``reliability_slow`` (for subprocess runs)."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "reliability_slow.py").write_text(SLOW_PLUGIN)
    return folder


def subprocess_env(root: Path, extra_path: Path | None = None) -> dict[str, str]:
    path = os.pathsep.join(str(p) for p in (REPO, extra_path) if p)
    return {**os.environ, "NASPROXY_DATA": str(root), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": path}


def _default_sigint() -> None:
    # a background job inherits SIGINT ignored; a user's Ctrl-C reaches a foreground run
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli_process(*args: object, root: Path, cwd: Path | None = None, extra_path: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nasproxy_bench.cli", *map(str, args)], env=subprocess_env(root, extra_path),
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


@contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """Mount a small tmpfs at ``where`` (root only); skip the test where the platform does not allow it."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip() or result.returncode})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)

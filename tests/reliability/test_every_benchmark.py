"""The data-root catalogue for every registered benchmark, not only NB201.

A user who names any benchmark with a missing, empty or damaged data root gets exit 2 and one
line naming what is missing and what to do, or (for spaces whose architectures need no file, such
as the enumerable NATS size space) a run that scores and stores; never a traceback.
"""

from __future__ import annotations

import pytest

from nasproxy_bench.registry import benchmarks
from tests.reliability.conftest import cli

NAMES = sorted(benchmarks())


def _run(capsys, name: str, root, tmp_path) -> tuple[int, str]:
    dataset = next(iter(benchmarks()[name].datasets), "cifar10")  # a family (nds) has none: one-line error
    store = tmp_path / "s.h5"
    code, _, err = cli(capsys, "run", "--benchmark", name, "--dataset", dataset, "--proxies", "params", "--n", "2",
                       "--no-progress", "--data-root", root, "--store", store, "--reports", tmp_path / "reports")
    return code, err


def _assert_clean(code: int, err: str) -> None:
    assert code in (0, 2), err
    if code == 2:
        lines = [line for line in err.splitlines() if not line.startswith("warning:")]
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        assert "Traceback" not in err


@pytest.mark.parametrize("name", NAMES)
def test_missing_data_root(name, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no cached table from earlier runs
    code, err = _run(capsys, name, tmp_path / "no_such_root", tmp_path)
    _assert_clean(code, err)


@pytest.mark.parametrize("name", NAMES)
def test_empty_data_root(name, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "root").mkdir()
    code, err = _run(capsys, name, tmp_path / "root", tmp_path)
    _assert_clean(code, err)


@pytest.mark.parametrize("name", NAMES)
def test_data_root_that_is_a_file(name, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "root").write_text("not a folder")
    code, err = _run(capsys, name, tmp_path / "root", tmp_path)
    assert code == 2, err
    _assert_clean(code, err)

"""Shared fixtures: small data roots in the official layouts, built per test session."""

from __future__ import annotations

import itertools
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasproxy_bench.adapters.nb201 import NB201Arch
from nasproxy_bench.adapters.nb201.network import OPS
from nasproxy_bench.execution.threads import torch_threads

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _registries_restored():
    """Proxies and benchmarks a test registers (plugins, fakes) do not leak into later tests.

    Without this, a plugin proxy that raises KeyboardInterrupt on purpose stays registered and
    interrupts the next test that runs every registered proxy.
    """
    from nasproxy_bench import registry

    registry.proxies()  # load the built-ins first, so they are part of the snapshot
    proxies, benchmarks = dict(registry._proxies), dict(registry._benchmarks)
    yield
    registry._proxies.clear()
    registry._proxies.update(proxies)
    registry._benchmarks.clear()
    registry._benchmarks.update(benchmarks)


def shared_root() -> Path | None:
    """The real data folder (``$NASPROXY_DATA`` or ``../shared``), if present."""
    for candidate in (os.environ.get("NASPROXY_DATA"), REPO.parent / "shared"):
        if candidate and (Path(candidate) / "benchmarks/nb201/nb201.csv").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_root()
    if root is None:
        pytest.skip("real benchmark data not available (set NASPROXY_DATA)")
    return root


def all_nb201_archs() -> list[str]:
    return [str(NB201Arch(ops)) for ops in itertools.product(OPS, repeat=6)]


def write_cifar_batch(path: Path, n: int, label_key: str, classes: int, seed: int, size: int = 32) -> None:
    rng = np.random.default_rng(seed)
    record = {
        "data": rng.integers(0, 256, size=(n, 3 * size * size), dtype=np.uint8),
        label_key: rng.integers(0, classes, size=n).tolist(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(record, handle, protocol=2)


@pytest.fixture(scope="session")
def fake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with a synthetic 15,625-row NB201 table and tiny CIFAR inputs.

    The synthetic accuracy is a known function of the cell (more conv3x3 edges = better,
    plus a hash-based jitter), so correlation results are predictable.
    """
    root = tmp_path_factory.mktemp("data")
    archs = all_nb201_archs()
    rows = []
    for index, arch in enumerate(archs):
        ops = NB201Arch.parse(arch).ops
        n3, n1 = ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1")
        jitter = (index * 7919 % 1000) / 1000.0
        row = {"index": index, "arch": arch}
        for ds, base in (("cifar10", 80.0), ("cifar100", 50.0), ("ImageNet16-120", 25.0)):
            row[f"{ds}/test_acc"] = base + 2 * n3 + n1 + jitter
        row["cifar10-valid/valid_acc"] = row["cifar10/test_acc"] - 1
        row["cifar10-valid/test_acc"] = row["cifar10/test_acc"] - 0.5
        p = 0.073306 + n3 * 0.0464 + n1 * 0.0052  # not exact; structural proxies compute their own
        for ds in ("cifar10", "cifar100", "ImageNet16-120"):
            row[f"{ds}/params_M"] = p
            row[f"{ds}/flops_M"] = p * 100
        rows.append(row)
    table = root / "benchmarks/nb201/nb201.csv"
    table.parent.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(table, index=False)
    for i in range(1, 6):
        write_cifar_batch(root / f"inputs/cifar-10-batches-py/data_batch_{i}", 40, "labels", 10, seed=i)
    write_cifar_batch(root / "inputs/cifar-100-python/train", 200, "fine_labels", 100, seed=9)
    return root


@pytest.fixture
def one_thread():
    """Sequential runs use one torch thread, as every worker does, so float sums run in the same order."""
    with torch_threads(1):
        yield

"""One run configuration with documented defaults, and the data-root rule."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from nasproxy_bench.errors import DataError

DATA_ENV = "NASPROXY_DATA"
DEFAULT_DATA_ROOT = Path("data")
DEFAULT_STORE = Path("results/scores.h5")
DEFAULT_REPORTS = Path("reports")


def resolve_data_root(cli_value: str | Path | None = None) -> Path:
    """``--data-root`` if given, else ``$NASPROXY_DATA``, else ``./data``; a file there is refused.

    A missing folder is allowed (``import`` creates it; readers say what is missing).
    """
    env = os.environ.get(DATA_ENV)
    root = Path(cli_value) if cli_value else Path(env) if env else DEFAULT_DATA_ROOT
    if root.exists() and not root.is_dir():
        raise DataError(f"data root {root} is a file, not a folder; pass --data-root or set {DATA_ENV} to the folder "
                        "holding benchmarks/ and inputs/ (see data/README.md)")
    return root


@dataclass
class RunConfig:
    """What ``nasproxy-bench run`` computes.

    Attributes:
        benchmark: registered benchmark name (``nasproxy-bench list``).
        dataset: dataset/task of the benchmark.
        proxies: proxy names to evaluate.
        n: sample size; ``None`` evaluates every architecture.
        sample_seed: seed of the architecture sample (``sample(n, seed)``); ignored with
            ``arch_list``, whose runs are stored under sample ``-1``.
        arch_list: evaluate exactly these architectures (e.g. those of a reference table),
            in order, the first ``n`` of them.
        seeds: network-initialisation and minibatch seeds; results are averaged over them.
        batch_size: size of the fixed proxy minibatch (64 as in the zero-cost literature).
        device: ``cpu`` or ``cuda``.
        data_root: folder with ``benchmarks/`` and ``inputs/`` (see ``resolve_data_root``).
        store: HDF5 result store; runs resume from it.
        trust_pickles: allow unrestricted unpickling of benchmark files (unsafe).
        checkpoint_s: seconds between atomic rewrites of the store (the journal covers the gap).
        workers: local worker processes scoring chunks of architectures (1: all in this process).
        plugins: ``--plugin`` modules, imported again in each worker process.
        executor: ``local`` (this process, or a local process pool when ``workers`` > 1) or
            ``ray`` (``workers`` Ray actors; needs the ``ray`` extra).
        address: Ray cluster address (``auto``, ``ray://host:10001``); ``None`` starts a local Ray.
        gpus_per_worker: with ``--device cuda``: the GPU share of each worker (0.25: four workers
            per GPU); ``None`` is one GPU per Ray actor, and one worker per GPU round-robin in the pool.
        retry_errors: score again the architectures whose stored record is an ``error`` (after a
            fix); by default every stored record counts as done. ``ok`` and ``unsupported`` records
            are never recomputed; a retried record replaces the error.
    """

    benchmark: str
    dataset: str
    proxies: list[str]
    n: int | None = 1000
    sample_seed: int = 0
    arch_list: list[str] | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    batch_size: int = 64
    device: str = "cpu"
    data_root: Path = DEFAULT_DATA_ROOT
    store: Path = DEFAULT_STORE
    trust_pickles: bool = False
    checkpoint_s: float = 60.0
    workers: int = 1
    plugins: list[str] = field(default_factory=list)
    executor: str = "local"
    address: str | None = None
    gpus_per_worker: float | None = None
    retry_errors: bool = False

"""Ray actors as workers (``run --executor ray [--address ADDR]``), with the pool's contract.

Each actor holds a ``ChunkRunner`` (loaded benchmark and minibatches stay between chunks), takes
one chunk at a time and returns its records; the driver alone writes the store. An actor that
dies (killed, out of memory, its node lost) costs its chunk: the chunk is retried on a fresh
actor up to ``retries`` times, then every architecture of it gets ``error`` records naming the
reason. With ``gpus_per_worker`` > 0 each actor reserves that (possibly fractional) share of a
GPU; Ray sets ``CUDA_VISIBLE_DEVICES`` so ``cuda`` in the actor is its own GPU.

Ray is an optional extra: without it, asking for this executor is a one-line error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.execution.chunk import Chunk, ChunkResult, ChunkRunner
from nasproxy_bench.execution.pool import _transportable, chunk_size, failed_chunk

RAY_MISSING = "--executor ray needs Ray, which is not installed; pip install 'nasproxy-bench[ray]'"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise NasproxyError(RAY_MISSING) from None
    return ray


class ChunkActor:
    """The body of one Ray actor (wrapped by ``ray.remote`` in ``RayExecutor``)."""

    def __init__(self, plugins: tuple[str, ...], sys_path: tuple[str, ...]) -> None:
        import torch

        from nasproxy_bench.registry import load_plugin

        for entry in reversed(sys_path):  # the driver's import path (plugins next to the driver), where it exists
            if entry not in sys.path:
                sys.path.insert(0, entry)
        torch.set_num_threads(1)
        self.runner = ChunkRunner()
        self.setup_error: Exception | None = None
        try:
            for module in plugins:
                load_plugin(module)
        except Exception as exc:  # reported with the first chunk, as the process pool does
            self.setup_error = _transportable(exc)

    def score(self, chunk: Chunk) -> tuple[str, Any]:
        if self.setup_error is not None:
            return "raised", self.setup_error
        try:
            return "ok", self.runner.run(chunk)
        except Exception as exc:  # handed to the driver, which raises it as a sequential run would
            return "raised", _transportable(exc)


def death_reason(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = next((line for line in lines if "exit" in line.lower() or "killed" in line.lower() or "died" in line.lower()),
                  lines[0] if lines else "")
    return f"Ray worker died ({type(exc).__name__}: {detail[:160]})"


class RayExecutor:
    """``workers`` Ray actors of one CPU (and ``gpus_per_worker`` GPU) each.

    Connects to ``address`` (``auto`` or ``ray://host:port``) or starts a local Ray instance
    with ``workers`` CPUs; a Ray instance it started is shut down by ``close``.
    """

    def __init__(self, workers: int, *, address: str | None = None, plugins: Iterable[str] = (), retries: int = 2,
                 gpus_per_worker: float = 0.0) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if gpus_per_worker < 0:
            raise NasproxyError(f"--gpus-per-worker {gpus_per_worker}: give 0 (CPU) or a positive share such as 0.25")
        self.ray = import_ray()
        self.workers = workers
        self.plugins = tuple(plugins)
        self.retries = retries
        self.gpus_per_worker = gpus_per_worker
        self._owns_ray = False
        if not self.ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "logging_level": "ERROR", "log_to_driver": False}
            if address is None:
                options["num_cpus"] = workers
            try:
                self.ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise NasproxyError(f"cannot start or reach Ray{f' at {address}' if address else ''}: "
                                    f"{(str(exc).strip().splitlines() or [''])[0][:200]}") from None
            self._owns_ray = True
        self._actor_class = self.ray.remote(num_cpus=1, num_gpus=gpus_per_worker, max_restarts=0)(ChunkActor)
        self._idle: list[Any] = []

    def chunk_size(self, n_archs: int) -> int:
        return chunk_size(self.workers, n_archs)

    def _start(self) -> Any:
        return self._actor_class.remote(self.plugins, tuple(p for p in sys.path if p))

    def run(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, ChunkResult]]:
        """Results as chunks finish (in any order); the caller stores each before asking for the next."""
        dead = (self.ray.exceptions.RayActorError, self.ray.exceptions.WorkerCrashedError,
                self.ray.exceptions.OutOfMemoryError, self.ray.exceptions.ObjectLostError)
        queue = [(chunk, 0) for chunk in chunks]
        queue.reverse()  # pop() from the end takes chunks in order
        actors, self._idle = self._idle, []
        in_flight: dict[Any, tuple[Any, Chunk, int]] = {}  # object ref -> (actor, chunk, failures so far)
        try:
            while queue or in_flight:
                while queue and (actors or len(in_flight) < self.workers):
                    actor = actors.pop() if actors else self._start()
                    chunk, failures = queue.pop()
                    in_flight[actor.score.remote(chunk)] = (actor, chunk, failures)
                (ref,), _ = self.ray.wait(list(in_flight), num_returns=1)
                actor, chunk, failures = in_flight.pop(ref)
                try:
                    kind, payload = self.ray.get(ref)
                except dead as exc:
                    self.ray.kill(actor, no_restart=True)
                    if failures + 1 > self.retries:
                        yield chunk, failed_chunk(chunk, death_reason(exc), failures + 1)
                    else:
                        queue.append((chunk, failures + 1))
                    continue
                actors.append(actor)
                if kind == "raised":
                    raise payload
                yield chunk, payload
        finally:  # idle actors wait for the next run; those still busy (an interrupted run) are killed
            for actor, _, _ in in_flight.values():
                self.ray.kill(actor, no_restart=True)
            self._idle = actors

    def close(self) -> None:
        for actor in self._idle:
            self.ray.kill(actor, no_restart=True)
        self._idle = []
        if self._owns_ray and self.ray.is_initialized():
            self.ray.shutdown()
        self._owns_ray = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

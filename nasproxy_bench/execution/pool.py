"""Local worker processes (``run --workers N``): chunks go out by value, records come back.

Workers are started with ``spawn`` (no inherited torch/CUDA state), use one torch thread each,
and import the run's ``--plugin`` modules before their first chunk. The driver tracks which
chunk each worker holds, so a worker that dies (``os._exit`` in a plugin, the OOM killer,
``kill -9``) costs exactly that chunk: it is retried in a fresh worker up to ``retries`` times,
then every architecture of it gets ``error`` records naming the reason, and the run goes on.
A script that calls ``runner.run`` with workers needs the usual ``if __name__ == "__main__":``
guard (``spawn`` re-imports the main module in each worker); the CLI has it.
"""

from __future__ import annotations

import math
import multiprocessing
import pickle
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.execution.chunk import Chunk, ChunkResult, ChunkRunner, ScoredRecord
from nasproxy_bench.store import STATUS_ERROR, Record

MAX_CHUNK = 16  # architectures per chunk at most (what one dead worker can cost per attempt)
CHUNKS_PER_WORKER = 4  # enough chunks that workers finish together


def _worker_main(conn: Connection, plugins: tuple[str, ...], cuda_index: int | None = None) -> None:
    import torch

    from nasproxy_bench.registry import load_plugin

    torch.set_num_threads(1)
    if cuda_index is not None:  # this worker's GPU: "cuda" in a chunk means the current device
        torch.cuda.set_device(cuda_index)
    runner = ChunkRunner()
    try:
        for module in plugins:
            load_plugin(module)
        while True:
            chunk = conn.recv()
            if chunk is None:
                return
            try:
                conn.send(("ok", runner.run(chunk)))
            except Exception as exc:  # handed to the driver, which raises it as a sequential run would
                conn.send(("raised", _transportable(exc)))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group; the driver reports it
        return
    except (EOFError, OSError):  # the driver is gone (closed or broken pipe)
        return
    except Exception as exc:  # a plugin that fails to import
        conn.send(("raised", _transportable(exc)))


def _transportable(exc: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # an exception type that does not survive pickling (e.g. UnknownNameError's signature)
        if isinstance(exc, NasproxyError):
            return NasproxyError(str(exc))
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return RuntimeError(f"{type(exc).__name__}: {first}")


def death_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker process vanished"
    if exitcode < 0:
        try:
            return f"worker process killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker process killed by signal {-exitcode}"
    return f"worker process exited with code {exitcode}"


def failed_chunk(chunk: Chunk, reason: str, attempts: int) -> ChunkResult:
    """``error`` records for every (architecture, proxy) of a chunk no worker could finish."""
    message = f"{reason} on all {attempts} attempts at a chunk of {len(chunk.todo)} architectures; not scored"
    return ChunkResult([ScoredRecord(arch, name, Record(math.nan, 0.0, STATUS_ERROR, message))
                        for arch, names in chunk.todo for name in names])


@dataclass
class _Worker:
    process: Any  # multiprocessing.process.BaseProcess
    conn: Connection
    chunk: Chunk | None = None
    failures: int = 0


def chunk_size(workers: int, n_archs: int) -> int:
    """Chunks small enough that ``workers`` finish together, and that a dead worker costs little."""
    return max(1, min(MAX_CHUNK, math.ceil(n_archs / (workers * CHUNKS_PER_WORKER))))


class LocalPoolExecutor:
    """A pool of spawned processes; idle workers are kept between ``run`` calls until ``close``.

    ``cuda_devices`` > 0 gives worker i the GPU ``i % cuda_devices`` (several workers per GPU
    when there are more workers than GPUs).
    """

    def __init__(self, workers: int, plugins: Iterable[str] = (), retries: int = 2, cuda_devices: int = 0) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.plugins = tuple(plugins)
        self.retries = retries
        self.cuda_devices = cuda_devices
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._started = 0

    def chunk_size(self, n_archs: int) -> int:
        return chunk_size(self.workers, n_archs)

    def _start(self) -> _Worker:
        driver_end, worker_end = self._context.Pipe()
        cuda_index = self._started % self.cuda_devices if self.cuda_devices else None
        self._started += 1
        process = self._context.Process(target=_worker_main, args=(worker_end, self.plugins, cuda_index), daemon=True)
        process.start()
        worker_end.close()
        return _Worker(process, driver_end)

    def close(self) -> None:
        for worker in self._idle:
            self._stop(worker)
        self._idle = []

    def __enter__(self) -> LocalPoolExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, ChunkResult]]:
        """Results as chunks finish (in any order); the caller stores each before asking for the next."""
        queue: deque[tuple[Chunk, int]] = deque((chunk, 0) for chunk in chunks)
        workers = [w for w in self._idle if w.process.is_alive()]  # one that died while idle is replaced
        for worker in self._idle:
            if worker not in workers:
                self._stop(worker)
        self._idle = []
        try:
            while queue or any(w.chunk is not None for w in workers):
                for worker in workers:
                    if worker.chunk is None and queue:
                        worker.chunk, worker.failures = queue.popleft()
                        worker.conn.send(worker.chunk)
                while queue and len(workers) < self.workers:
                    worker = self._start()
                    worker.chunk, worker.failures = queue.popleft()
                    worker.conn.send(worker.chunk)
                    workers.append(worker)
                busy = [w for w in workers if w.chunk is not None]
                ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
                for worker in busy:
                    if worker.conn in ready or worker.process.sentinel in ready:
                        finished = self._collect(worker, queue, workers)
                        if finished is not None:
                            yield finished
        finally:  # idle workers wait for the next run; busy ones (an interrupted run) are stopped
            for worker in workers:
                if worker.chunk is None and worker.process.is_alive():
                    self._idle.append(worker)
                else:
                    self._stop(worker)

    def _collect(self, worker: _Worker, queue: deque, workers: list[_Worker]) -> tuple[Chunk, ChunkResult] | None:
        chunk = worker.chunk
        assert chunk is not None
        try:
            if worker.conn.poll():
                kind, payload = worker.conn.recv()
                worker.chunk = None
                if kind == "raised":
                    raise payload
                return chunk, payload
        except (EOFError, OSError):
            pass  # the pipe broke: the worker died mid-send
        if worker.process.is_alive():
            return None  # woken by the other end of a pipe but nothing complete yet
        worker.process.join()
        reason = death_reason(worker.process.exitcode)
        workers.remove(worker)
        worker.conn.close()
        failures = worker.failures + 1
        if failures > self.retries:
            return chunk, failed_chunk(chunk, reason, failures)
        queue.appendleft((chunk, failures))
        return None

    @staticmethod
    def _stop(worker: _Worker) -> None:
        try:
            if worker.chunk is None:
                worker.conn.send(None)
        except OSError:
            pass
        worker.process.join(timeout=5 if worker.chunk is None else 0)
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(timeout=5)
        worker.conn.close()

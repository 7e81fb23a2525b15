"""Today's behaviour: every chunk scored in the driver process, in order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nasproxy_bench.execution.chunk import Chunk, ChunkResult, ChunkRunner


class SequentialExecutor:
    workers = 1

    def __init__(self, runner: ChunkRunner | None = None) -> None:
        self.runner = runner or ChunkRunner()

    def chunk_size(self, n_archs: int) -> int:
        return 1  # the store gets each architecture as soon as it is scored, as before

    def close(self) -> None:
        """Nothing to release (same interface as the process pools)."""

    def run(self, chunks: Iterable[Chunk]) -> Iterator[tuple[Chunk, ChunkResult]]:
        for chunk in chunks:
            yield chunk, self.runner.run(chunk)

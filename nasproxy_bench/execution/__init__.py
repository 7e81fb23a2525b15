"""How a run's architectures get scored: in this process, or by a pool of local worker processes.

Ray actors (``ray_executor.RayExecutor``, optional extra) follow the same contract.

The unit of work is a ``Chunk``: one (benchmark, dataset, seed) and a few architectures, each
built once and scored by every requested proxy it still lacks. Workers receive chunks by value
and return records; only the driver (``runner.run``) writes the store.
"""

from nasproxy_bench.execution.chunk import Chunk, ChunkResult, ChunkRunner, ScoredRecord
from nasproxy_bench.execution.pool import LocalPoolExecutor
from nasproxy_bench.execution.ray_executor import RayExecutor
from nasproxy_bench.execution.sequential import SequentialExecutor

__all__ = ["Chunk", "ChunkResult", "ChunkRunner", "ScoredRecord", "LocalPoolExecutor", "RayExecutor", "SequentialExecutor"]

"""One API over every search space: the ``Benchmark`` base class that adapters implement.

An architecture is identified by its canonical string (``Benchmark.canonical``): parsing it and
printing it again gives the same string, so it is both the store key and what users type.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from nasproxy_bench.errors import DataError, NasproxyError, UnknownNameError, UnsupportedNetwork
from nasproxy_bench.tasks import TaskIO, TaskKind, default_io

# Cell BatchNorm kinds of Benchmark.build_variant: the benchmark's own, or no scale/shift with batch
# statistics in eval mode too (the cells of GenNAS's public NB201 model).
CELL_BATCHNORMS = ("standard", "batch_stats")
# Training dropouts of Benchmark.build_variant: none (every benchmark's network), or the official
# training code's (NAS-Bench-NLP: locked and weight dropout, as GenNAS's public RNN regression trains).
DROPOUTS = ("none", "official")

__all__ = ["Benchmark", "TableBenchmark", "Dataset", "Metric", "Direction", "TaskKind", "TaskIO", "CellGraph", "VerifyResult"]


class Direction(str, Enum):
    HIGHER = "higher"
    LOWER = "lower"

    def sign(self) -> float:
        """Multiplier that turns a value into 'higher is better'."""
        return 1.0 if self is Direction.HIGHER else -1.0


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    """A dataset or task of a benchmark: what its networks take in and put out.

    ``io`` is the task's input/target/loss/output contract (``nasproxy_bench.tasks``); when
    omitted, a classification dataset gets integer-label cross-entropy on the image batches
    of ``nasproxy_bench.inputs`` and any other kind has none (loss-based proxies: unsupported).
    """

    name: str
    input_shape: tuple[int, ...]
    num_outputs: int
    task: TaskKind
    metrics: tuple[Metric, ...]
    default_metric: str
    io: TaskIO | None = None

    @property
    def task_io(self) -> TaskIO:
        """The task contract; raises ``UnsupportedNetwork`` where the dataset declares none."""
        found = self.io or default_io(self.task)
        if found is None:
            raise UnsupportedNetwork(f"dataset {self.name} ({self.task.value}) declares no task loss/inputs")
        return found

    def metric(self, name: str | None = None) -> Metric:
        name = name or self.default_metric
        for m in self.metrics:
            if m.name == name:
                return m
        raise UnknownNameError(f"metric of {self.name}", name, [m.name for m in self.metrics])


@dataclass(frozen=True)
class CellGraph:
    """The cell DAG of a cell-based space, for topology proxies.

    Nodes are 0..num_nodes-1 (0 = cell input, last = cell output); ``edges`` maps
    (source, target) to an operation name; ``zero_ops`` are operations that carry nothing;
    ``cell_widths`` gives the channel width of every cell instance in the network.
    """

    num_nodes: int
    edges: dict[tuple[int, int], str]
    zero_ops: frozenset[str]
    cell_widths: tuple[int, ...]


def sample_order_key(seed: int, arch: str) -> bytes:
    """Sort key of the seeded sample: SHA-256 of ``"<seed>:<arch>"``.

    Depends on nothing but the seed and the canonical string, so a sample is identical on
    every machine and library version, and ``sample(n, s)`` is a prefix of ``sample(m, s)``
    for ``n < m`` (a larger run resumes a smaller one).
    """
    return hashlib.sha256(f"{seed}:{arch}".encode()).digest()


class Benchmark(ABC):
    """Base class of all search-space adapters. Data files are read lazily."""

    name: str = ""
    description: str = ""
    datasets: dict[str, Dataset] = {}
    # Raised when the networks the builder makes change (not their counts: what they compute).
    # A score of a proxy that runs the network is stored under its version plus this revision
    # (``registry.stored_version``), so a store never mixes scores of the old and new networks.
    network_revision: int = 0

    def __init__(self, data_root: Path, *, trust_pickles: bool = False) -> None:
        self.data_root = Path(data_root)
        self.trust_pickles = trust_pickles

    # -- architectures -----------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str) -> Any:
        """Parse a canonical architecture string; raise ``ValueError`` naming the problem."""

    @abstractmethod
    def canonical(self, arch: Any) -> str:
        """The canonical string of a parsed architecture (``parse`` inverts it)."""

    @abstractmethod
    def archs(self) -> Sequence[str]:
        """Canonical strings of every architecture with ground truth, in official order."""

    def __len__(self) -> int:
        return len(self.archs())

    def sample(self, n: int | None, seed: int) -> list[str]:
        """A fixed seeded sample of ``n`` architectures (all of them, ordered, if ``n`` is None)."""
        ordered = sorted(self.archs(), key=lambda a: sample_order_key(seed, a))
        if n is None:
            return ordered
        if n <= 0:
            raise ValueError(f"sample size must be positive, got {n}")
        return ordered[:n]

    # -- ground truth and costs ------------------------------------------------------------
    def dataset(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise UnknownNameError(f"dataset of {self.name}", name, list(self.datasets)) from None

    @abstractmethod
    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        """Ground truth indexed by canonical arch string (NaN where the benchmark has none)."""

    @abstractmethod
    def costs(self, dataset: str) -> pd.DataFrame:
        """Structural costs indexed by arch string: at least ``params_M`` and ``flops_M``."""

    def hardware_costs(self, dataset: str) -> pd.DataFrame | None:
        """Hardware costs (latency/energy columns) indexed by arch string, if a table exists."""
        return None

    def entry_counts(self) -> dict[str, str]:
        """Per dataset whose data is present, a short count of its entries for ``list``.

        Empty by default (counting may mean reading a large table); spaces whose files are
        small override it.
        """
        return {}

    # -- networks ----------------------------------------------------------------------------
    @abstractmethod
    def build(self, arch: str, dataset: str) -> nn.Module:
        """An untrained PyTorch network for ``arch`` on ``dataset`` (random init from torch's RNG)."""

    def build_resized(
        self, arch: str, dataset: str, *, channels: int, cells_per_stage: int, depth: int | None = None, stem: bool = True
    ) -> nn.Module:
        """``arch`` on a smaller copy of the space's skeleton, for proxies whose protocol fixes the probe network.

        TE-NAS (Chen et al., ICLR'21) scores a cell on NB201's skeleton at ``channels`` initial
        channels and ``cells_per_stage`` cells per stage; ``depth`` keeps only the first layers
        (cells and reduction blocks) before the BN-ReLU-pooling-classifier head, and without
        ``stem`` the input must already have ``channels`` channels. Spaces whose architecture
        is not a cell on such a skeleton do not implement it: the proxies that need it then
        record ``unsupported``.
        """
        raise UnsupportedNetwork(f"{self.name} does not build resized copies of its architectures (Benchmark.build_resized)")

    def build_with_width(self, arch: str, dataset: str, *, channels: int) -> nn.Module:
        """``arch``'s network with ``channels`` channels in its first stage, otherwise as ``build``.

        For proxies whose protocol trains a narrower copy than the benchmark trained: GenNAS's
        public code trains NAS-Bench-101 cells at 16 initial channels, not the official 128.
        Spaces whose widths are part of the architecture (NATS-SSS, AnyNet, TransNAS macro) do
        not implement it: such a proxy then records ``unsupported``.
        """
        raise UnsupportedNetwork(f"{self.name} has no width knob outside its architectures (Benchmark.build_with_width)")

    def build_variant(self, arch: str, dataset: str, *, channels: int | None = None, cell_bn: str = "standard",
                      dropouts: str = "none") -> nn.Module:
        """``arch``'s network as a proxy protocol's variant: ``channels`` first-stage channels (``build_with_width``),
        the cells' BatchNorm kind (``standard``: the benchmark's; ``batch_stats``: no scale/shift, batch
        statistics in eval too, as the cells of GenNAS's public NB201 model) and the training dropouts
        (``none``, or ``official``: those of the benchmark's training code, active in train mode only).
        Spaces without such a variant raise ``UnsupportedNetwork`` for anything but the defaults.
        """
        if cell_bn != "standard":
            raise UnsupportedNetwork(f"{self.name} has no {cell_bn!r} cell BatchNorm variant (Benchmark.build_variant)")
        if dropouts != "none":
            raise UnsupportedNetwork(f"{self.name} has no {dropouts!r} dropouts variant (Benchmark.build_variant)")
        return self.build(arch, dataset) if channels is None else self.build_with_width(arch, dataset, channels=channels)

    def cell_graph(self, arch: str) -> CellGraph | None:
        """The cell DAG for topology proxies, or None where the space has no cells."""
        return None

    # -- search ------------------------------------------------------------------------------
    def random_arch(self, rng: random.Random) -> str:
        """A uniformly random architecture with ground truth (override for spaces without a table)."""
        return rng.choice(list(self.archs()))

    def mutate(self, arch: str, rng: random.Random) -> str:
        """A random neighbour of ``arch``: one edit of its encoding, different from ``arch``."""
        raise NotImplementedError(f"{self.name} has no mutation operator yet")

    # -- official files ----------------------------------------------------------------------
    def import_table(self, source: Path, **options: Any) -> tuple[pd.DataFrame, Path]:
        """Read official files at ``source``; return the normalized table and where it belongs.

        The caller writes it (``nasproxy_bench.tables.write_table``: atomic, refuses to replace
        an existing table unless forced).
        """
        raise DataError(f"no importer for {self.name}; its data is read as it comes (see data/README.md)")

    def verify(self, *, stride: int = 1, flops: bool = False) -> VerifyResult:
        """Compare built networks with every official count available (params, FLOPs, hashes)."""
        raise DataError(f"no verify for {self.name} yet")


@dataclass
class VerifyResult:
    """Outcome of ``Benchmark.verify``: what was compared, the largest errors, every mismatch."""

    checked: int = 0
    what: str = "(architecture, dataset) pairs"
    max_errors: dict[str, float] = field(default_factory=dict)
    mismatches: list[str] = field(default_factory=list)

    def record_error(self, quantity: str, error: float) -> None:
        self.max_errors[quantity] = max(self.max_errors.get(quantity, 0.0), abs(error))

    def summary(self) -> str:
        errors = ", ".join(f"max |{q} - official| = {e:.2e}" for q, e in self.max_errors.items())
        return f"checked {self.checked} {self.what}: {errors or 'nothing compared'}; {len(self.mismatches)} mismatches"


def check_data_root(root: Path) -> None:
    """One-line errors for a data root that is missing or is a file."""
    hint = "pass --data-root or set NASPROXY_DATA to the folder holding benchmarks/ and inputs/ (see data/README.md)"
    if not root.exists():
        raise DataError(f"data root {root} does not exist; {hint}")
    if not root.is_dir():
        raise DataError(f"data root {root} is a file, not a folder; {hint}")


def cut_mid_row(path: Path, frame: pd.DataFrame) -> bool:
    """True when the file does not end with a newline and its last row lacks values (a cut copy)."""
    if frame.empty:
        return False
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        ends_with_newline = handle.read(1) in (b"\n", b"\r")
    return not ends_with_newline and bool(frame.iloc[-1].isna().any())


class FamilyBenchmark(Benchmark):
    """A name for several spaces at once (``nds``, ``tnb101``): it imports or verifies them, holds no architectures.

    Every architecture-level call is refused with ``use_instead``, which names the member spaces.
    """

    datasets: dict[str, Dataset] = {}
    use_instead = "use one of its spaces (see 'nasproxy-bench list')"

    def _family_only(self) -> NasproxyError:
        return NasproxyError(f"{self.name!r} names several spaces; {self.use_instead}")

    def parse(self, text: str) -> Any:
        raise ValueError(f"{self.name!r} names several spaces; parse architectures with one of them ({self.use_instead})")

    def canonical(self, arch: Any) -> str:
        raise self._family_only()

    def archs(self) -> Sequence[str]:
        return []

    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        raise self._family_only()

    def costs(self, dataset: str) -> pd.DataFrame:
        raise self._family_only()

    def build(self, arch: str, dataset: str) -> nn.Module:
        raise self._family_only()


class TableBenchmark(Benchmark):
    """A benchmark whose ground truth is one normalized CSV table under the data root."""

    table_path: str = ""  # relative to the data root
    import_hint: str = ""

    @cached_property
    def table(self) -> pd.DataFrame:
        check_data_root(self.data_root)
        path = self.data_root / self.table_path
        if not path.is_file():
            raise DataError(
                f"missing benchmark table {path}; {self.import_hint} "
                "or point --data-root / NASPROXY_DATA at a folder that has it"
            )
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
            raise DataError(f"{path}: unreadable table ({exc}); re-create it with the importer") from None
        self.validate_table(frame, path)
        return frame.set_index("arch", drop=False)

    def validate_table(self, frame: pd.DataFrame, path: Path) -> None:
        """Checks every table gets; a subclass adds its own (columns, row count) after these."""
        if "arch" not in frame.columns:
            raise DataError(f"{path}: no 'arch' column (wrong header?); re-create it with the importer")
        if frame["arch"].isna().any():
            row = int(frame["arch"].isna().to_numpy().argmax()) + 2
            raise DataError(f"{path}: line {row} has no architecture; re-create the table with the importer")
        duplicated = frame["arch"][frame["arch"].duplicated()]
        if len(duplicated):
            raise DataError(
                f"{path}: {len(duplicated)} duplicate architecture rows (first: {duplicated.iloc[0]}); "
                "re-create the table with the importer"
            )
        if cut_mid_row(path, frame):
            raise DataError(f"{path}: the last row is cut short (truncated?); re-create it with the importer")

    def archs(self) -> Sequence[str]:
        return self.table.index.tolist()

    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        spec = self.dataset(dataset)
        column = f"{dataset}/{spec.metric(metric).name}"
        if column not in self.table.columns:
            raise DataError(f"{self.data_root / self.table_path}: no column {column!r}")
        return self.table[column].astype(float)

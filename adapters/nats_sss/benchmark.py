"""NATS-Bench size search space (32,768 channel configurations of one fixed cell, 3 datasets).

Networks are built and scored without any table. Ground truth (and the official params,
FLOPs and latency of every architecture) come from the table that ``nasproxy-bench import
nats_sss`` writes from the official ``NATS-sss-v1_0-50262-simple`` folder; without it,
reports say so instead of correlating.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import pandas as pd
from torch import nn

from nasproxy_bench.adapters.nats_sss.arch import NATSSizeArch, enumerate_archs
from nasproxy_bench.adapters.nats_sss.network import FIXED_CELL, NATSSizeNetwork
from nasproxy_bench.adapters.nb201.benchmark import NB201Arch
from nasproxy_bench.adapters.nb201.network import NUM_NODES
from nasproxy_bench.benchmark import CellGraph, Dataset, Direction, Metric, TableBenchmark, TaskKind, VerifyResult
from nasproxy_bench.errors import DataError, MissingGroundTruth

TABLE = "benchmarks/nats_sss/nats_sss.csv"
INDEX_TABLE = "benchmarks/nats_sss/nats_sss_index.csv"
FIXTURE = "benchmarks/nats_sss/official_fixture"
IMPORT_COMMAND = "nasproxy-bench import nats_sss --source <NATS-sss-v1_0-50262-simple folder>"
HARDWARE_COLUMN = "nats/latency_ms"
TEST_ACC = Metric("test_acc", Direction.HIGHER, "top-1 test accuracy (%) at the end of the imported schedule (default 90 epochs)")
VALID_ACC = Metric("valid_acc", Direction.HIGHER, "top-1 validation accuracy (%) at the end of the imported schedule")


def _datasets() -> dict[str, Dataset]:
    return {
        "cifar10": Dataset("cifar10", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (TEST_ACC,), "test_acc"),
        "cifar100": Dataset("cifar100", (3, 32, 32), 100, TaskKind.CLASSIFICATION, (TEST_ACC, VALID_ACC), "test_acc"),
        "ImageNet16-120": Dataset(
            "ImageNet16-120", (3, 16, 16), 120, TaskKind.CLASSIFICATION, (TEST_ACC, VALID_ACC), "test_acc"
        ),
    }


class NATSSizeBenchmark(TableBenchmark):
    name = "nats_sss"
    description = "NATS-Bench size space (32,768 channel configurations; accuracies need 'import nats_sss')"
    datasets = _datasets()
    table_path = TABLE
    import_hint = f"create it with '{IMPORT_COMMAND}'"

    @property
    def has_table(self) -> bool:
        return (self.data_root / TABLE).is_file()

    def validate_table(self, frame: pd.DataFrame, path: Path) -> None:
        super().validate_table(frame, path)
        missing = {"index", "cifar10/test_acc"} - set(frame.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}; re-create it with '{IMPORT_COMMAND} --force'")
        for row, (index, text) in enumerate(zip(frame["index"], frame["arch"], strict=True)):
            try:
                arch = NATSSizeArch.parse(str(text))
            except ValueError as exc:
                raise DataError(f"{path}: row {row + 1}: {exc}; re-create it with the importer") from None
            if arch.index != index:
                raise DataError(f"{path}: row {row + 1}: index {index} is not the official index {arch.index} of {text}")

    # -- architectures ------------------------------------------------------------------------
    def parse(self, text: str) -> NATSSizeArch:
        return NATSSizeArch.parse(text)

    def canonical(self, arch: NATSSizeArch) -> str:
        return str(arch)

    @cached_property
    def all_archs(self) -> list[str]:
        """Every architecture in official order: the shared index CSV where present, else enumerated."""
        ours = enumerate_archs()
        path = self.data_root / INDEX_TABLE
        if not path.is_file():
            return ours
        try:
            frame = pd.read_csv(path)
            listed = frame.sort_values("index")["arch"].astype(str).tolist()
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, KeyError, OSError) as exc:
            raise DataError(f"{path}: unreadable index ({exc}); delete it (architectures are enumerated without it)") from None
        if listed != ours or sorted(frame["index"].tolist()) != list(range(len(ours))):
            raise DataError(f"{path}: does not list the 32,768 architectures in official index order; delete or replace it")
        return listed

    def archs(self) -> Sequence[str]:
        """Architectures with ground truth when a table is imported, else all 32,768 (scored, not correlated)."""
        return self.table.index.tolist() if self.has_table else self.all_archs

    def random_arch(self, rng: random.Random) -> str:
        return rng.choice(self.archs())

    def mutate(self, arch: str, rng: random.Random) -> str:
        """Change the channel count of one position (to another of the 8 values)."""
        candidates = [str(a) for a in self.parse(arch).neighbours()]
        if self.has_table:
            known = set(self.archs())
            candidates = [a for a in candidates if a in known]
            if not candidates:
                raise DataError(f"no neighbour of {arch} is in the imported table; import the whole NATS-sss folder")
        return rng.choice(candidates)

    # -- ground truth and costs ------------------------------------------------------------------
    def _require_table(self, what: str) -> None:
        if not self.has_table:
            raise MissingGroundTruth(
                f"nats_sss has no {what} here: {self.data_root / TABLE} is missing; "
                f"scores are stored, and correlations need that table: create it with '{IMPORT_COMMAND}'"
            )

    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        self.dataset(dataset)
        self._require_table("accuracy table")
        return super().ground_truth(dataset, metric)

    def costs(self, dataset: str) -> pd.DataFrame:
        name = self.dataset(dataset).name
        self._require_table("official params/FLOPs table")
        cols = {f"{name}/params_M": "params_M", f"{name}/flops_M": "flops_M"}
        missing = set(cols) - set(self.table.columns)
        if missing:
            raise DataError(f"{self.data_root / TABLE}: no columns {sorted(missing)}; re-create it with '{IMPORT_COMMAND} --force'")
        return self.table[list(cols)].rename(columns=cols)

    def hardware_costs(self, dataset: str) -> pd.DataFrame | None:
        """The official latency (recorded in seconds, here in ms), where the imported table has it."""
        column = f"{self.dataset(dataset).name}/latency_s"
        if not self.has_table or column not in self.table.columns:
            return None
        return pd.DataFrame({HARDWARE_COLUMN: self.table[column].astype(float) * 1000.0})

    # -- networks ----------------------------------------------------------------------------------
    def build(self, arch: str, dataset: str) -> nn.Module:
        return NATSSizeNetwork(self.parse(arch).channels, self.dataset(dataset).num_outputs)

    def cell_graph(self, arch: str) -> CellGraph:
        """The fixed cell, once per stage, at the widths of positions 0, 2 and 4."""
        channels = self.parse(arch).channels
        edges = NB201Arch.parse(FIXED_CELL).edges()
        return CellGraph(NUM_NODES, edges, frozenset({"none"}), (channels[0], channels[2], channels[4]))

    # -- official files --------------------------------------------------------------------------
    def import_table(self, source: Path, *, hp: str = "90", **_options: object) -> tuple[pd.DataFrame, Path]:
        from nasproxy_bench.adapters.nats_sss.importer import import_nats_sss

        return import_nats_sss(source, hp=hp, trust_pickles=self.trust_pickles), self.data_root / TABLE

    def verify(self, *, stride: int = 1, flops: bool = True) -> VerifyResult:
        from nasproxy_bench.adapters.nats_sss.verify import verify_costs

        return verify_costs(self, stride=stride)

"""NAS-Bench-201 / NATS-Bench topology search space (15,625 cells, 3 datasets).

Canonical string: the official one, ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: node i lists the
operation on the edge from every earlier node j as ``op~j``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch import nn

from nasproxy_bench.adapters.nb201.network import (
    CELL_BATCHNORMS,
    EDGES,
    NUM_NODES,
    OPS,
    STEM_CHANNELS,
    NB201Network,
    ResizedCellNetwork,
)
from nasproxy_bench.benchmark import CellGraph, Dataset, Direction, Metric, TableBenchmark, TaskKind, VerifyResult
from nasproxy_bench.errors import DataError, UnsupportedNetwork

TABLE = "benchmarks/nb201/nb201.csv"
DATASET_NAMES = ("cifar10", "cifar100", "ImageNet16-120", "cifar10-valid")
TEST_ACC = Metric("test_acc", Direction.HIGHER, "top-1 test accuracy (%) after 200 epochs, mean over seeds")
VALID_ACC = Metric("valid_acc", Direction.HIGHER, "top-1 validation accuracy (%) after 200 epochs")


@dataclass(frozen=True)
class NB201Arch:
    """A cell: the operation on each of the 6 edges, in official edge order (1<-0, 2<-0, 2<-1, ...)."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != len(EDGES):
            raise ValueError(f"an NB201 cell has {len(EDGES)} edges, got {len(self.ops)}")
        for op in self.ops:
            if op not in OPS:
                raise ValueError(f"unknown NB201 operation {op!r}; expected one of {', '.join(OPS)}")

    def __str__(self) -> str:
        nodes, edge = [], 0
        for to in range(1, NUM_NODES):
            tokens = []
            for source in range(to):
                tokens.append(f"{self.ops[edge]}~{source}")
                edge += 1
            nodes.append("|" + "|".join(tokens) + "|")
        return "+".join(nodes)

    @classmethod
    def parse(cls, text: str) -> NB201Arch:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty NB201 architecture string")
        nodes = text.strip().split("+")
        if len(nodes) != NUM_NODES - 1:
            raise ValueError(
                f"NB201 string {text!r} has {len(nodes)} nodes separated by '+', expected {NUM_NODES - 1}"
            )
        ops: list[str] = []
        for to, node in enumerate(nodes, start=1):
            if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
                raise ValueError(f"node {to} of {text!r} must be written as |op~j|...|")
            tokens = node[1:-1].split("|")
            if len(tokens) != to:
                raise ValueError(f"node {to} of {text!r} needs {to} inputs, got {len(tokens)}")
            for source, token in enumerate(tokens):
                op, sep, index = token.partition("~")
                if not sep or index != str(source):
                    raise ValueError(f"edge {token!r} of node {to} must read 'op~{source}'")
                ops.append(op)
        return cls(tuple(ops))

    def edges(self) -> dict[tuple[int, int], str]:
        """Edge (from, to) -> operation; nodes 0..3, node 0 is the cell input."""
        return {(j, i): op for (i, j), op in zip(EDGES, self.ops, strict=True)}


def _datasets() -> dict[str, Dataset]:
    spec = {"cifar10": (32, 10), "cifar100": (32, 100), "ImageNet16-120": (16, 120)}
    out = {
        name: Dataset(name, (3, size, size), classes, TaskKind.CLASSIFICATION, (TEST_ACC,), "test_acc")
        for name, (size, classes) in spec.items()
    }
    out["cifar10-valid"] = Dataset(
        "cifar10-valid", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (VALID_ACC, TEST_ACC), "valid_acc"
    )
    return out


class NB201Benchmark(TableBenchmark):
    name = "nb201"
    description = "NAS-Bench-201 / NATS-Bench topology space (15,625 cells)"
    datasets = _datasets()
    table_path = TABLE
    import_hint = "create it with 'nasproxy-bench import nb201 --source <NATS-tss dir or NB201 .pth>'"

    def validate_table(self, frame: pd.DataFrame, path: Path) -> None:
        super().validate_table(frame, path)
        needed = {"index", "cifar10/test_acc", "cifar10/params_M", "cifar10/flops_M"}
        missing = needed - set(frame.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}; re-create it with the importer")
        if len(frame) != 15625:
            raise DataError(
                f"{path}: {len(frame)} architectures, expected 15,625 (truncated?); re-create it"
            )

    def parse(self, text: str) -> NB201Arch:
        return NB201Arch.parse(text)

    def canonical(self, arch: NB201Arch) -> str:
        return str(arch)

    def random_arch(self, rng: random.Random) -> str:
        """Each edge's operation drawn uniformly: uniform over all 15,625 cells, no table needed."""
        return str(NB201Arch(tuple(rng.choice(OPS) for _ in EDGES)))

    def mutate(self, arch: str, rng: random.Random) -> str:
        """One edge, chosen uniformly, gets a different operation (uniform over the other four).

        The standard NB201 mutation of regularized evolution (one edit of the cell); every cell of
        the space is valid, so the child always is too, and it always differs from the parent.
        """
        ops = list(self.parse(arch).ops)
        edge = rng.randrange(len(ops))
        ops[edge] = rng.choice([op for op in OPS if op != ops[edge]])
        return str(NB201Arch(tuple(ops)))

    def index_of(self, arch: str) -> int:
        return int(self.table.loc[arch, "index"])

    def costs(self, dataset: str) -> pd.DataFrame:
        name = "cifar10" if dataset == "cifar10-valid" else self.dataset(dataset).name
        cols = {f"{name}/params_M": "params_M", f"{name}/flops_M": "flops_M"}
        return self.table[list(cols)].rename(columns=cols)

    def hardware_costs(self, dataset: str) -> pd.DataFrame | None:
        from nasproxy_bench.adapters.hw_nas_bench import hardware_costs

        name = "cifar10" if dataset == "cifar10-valid" else self.dataset(dataset).name
        index_to_arch = self.table.set_index("index")["arch"]
        return hardware_costs(self.data_root, name, index_to_arch, trust_pickles=self.trust_pickles)

    def build(self, arch: str, dataset: str) -> nn.Module:
        return self.build_with_width(arch, dataset, channels=STEM_CHANNELS)

    def build_resized(
        self, arch: str, dataset: str, *, channels: int, cells_per_stage: int, depth: int | None = None, stem: bool = True
    ) -> nn.Module:
        spec = self.dataset(dataset)
        return ResizedCellNetwork(self.parse(arch).ops, spec.num_outputs, channels, cells_per_stage, depth=depth, stem=stem)

    def build_with_width(self, arch: str, dataset: str, *, channels: int) -> nn.Module:
        """NB201's skeleton (5 cells per stage) at ``channels``, 2x, 4x channels instead of 16, 32, 64."""
        return self.build_variant(arch, dataset, channels=channels)

    def build_variant(self, arch: str, dataset: str, *, channels: int | None = None, cell_bn: str = "standard",
                      dropouts: str = "none") -> nn.Module:
        """At ``channels`` (default 16) with the cells' BatchNorm ``cell_bn`` (stem, reductions and head keep the benchmark's)."""
        if cell_bn not in CELL_BATCHNORMS:
            raise UnsupportedNetwork(f"{self.name} has no {cell_bn!r} cell BatchNorm; expected one of {CELL_BATCHNORMS}")
        if dropouts != "none":
            raise UnsupportedNetwork(f"{self.name} was trained without dropout: no {dropouts!r} dropouts variant (Benchmark.build_variant)")
        return NB201Network(self.parse(arch).ops, self.dataset(dataset).num_outputs, channels=channels or STEM_CHANNELS,
                            cell_bn=cell_bn)

    def import_table(self, source: Path, *, hp: str = "200", **_options: object) -> tuple[pd.DataFrame, Path]:
        from nasproxy_bench.adapters.nb201.importer import import_nb201

        return import_nb201(source, hp=hp, trust_pickles=self.trust_pickles), self.data_root / TABLE

    def verify(self, *, stride: int = 1, flops: bool = False) -> VerifyResult:
        from nasproxy_bench.adapters.nb201.verify import verify_costs

        return verify_costs(self, stride=stride, flops=flops)

    def cell_graph(self, arch: str) -> CellGraph:
        widths = tuple(STEM_CHANNELS * 2**stage for stage in range(3) for _ in range(5))
        return CellGraph(NUM_NODES, self.parse(arch).edges(), frozenset({"none"}), widths)

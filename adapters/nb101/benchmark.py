"""NAS-Bench-101 on CIFAR-10: canonical id = official module hash of the pruned cell.

Ground truth comes from one of two tables under the data root, whichever exists first:

1. ``benchmarks/nb101/nb101.csv``: written by ``nasproxy-bench import nb101`` from the official
   TFRecord; accuracies are means over the (normally 3) training runs;
2. ``benchmarks/nb101/nb101_sample30k.csv.gz``: a public 30,001-architecture sample with the
   accuracies of **one** training run (validation only, no test accuracy).

Accuracies are in percent. ``ground_truth_source`` says which table is in use; reports print it.
"""

from __future__ import annotations

import random
import re
from functools import cached_property
from pathlib import Path

import pandas as pd
from torch import nn

from nasproxy_bench.adapters.nb101.network import STEM_CHANNELS, NB101Network, analytic_flops
from nasproxy_bench.adapters.nb101.spec import INPUT, MAX_VERTICES, OPS, OUTPUT, NB101Spec
from nasproxy_bench.benchmark import CellGraph, Dataset, Direction, Metric, TableBenchmark, TaskKind, VerifyResult
from nasproxy_bench.errors import DataError, NasproxyError

FULL_TABLE = "benchmarks/nb101/nb101.csv"
SAMPLE_TABLE = "benchmarks/nb101/nb101_sample30k.csv.gz"
EPOCHS = (4, 12, 36, 108)
HASH_RE = re.compile(r"^[0-9a-f]{32}$")
MUTATION_TRIES = 200

_SOURCE = ("mean over the training runs of the imported official table (nb101.csv) if present, "
           "else ONE training run of the 30k sample (nb101_sample30k.csv.gz)")
_SOURCE_FULL = "mean over the training runs of the imported official table nb101.csv"
_SOURCE_SAMPLE = "ONE training run, from the 30k sample nb101_sample30k.csv.gz (the literature mostly uses the 3-run mean test accuracy)"


def _metrics(source: str) -> tuple[Metric, ...]:
    metrics = [Metric("valid_acc", Direction.HIGHER, f"108-epoch top-1 validation accuracy (%); {source}")]
    metrics += [Metric(f"valid_acc_ep{e}", Direction.HIGHER, f"{e}-epoch-budget validation accuracy (%); {source}")
                for e in EPOCHS[:-1]]
    metrics.append(Metric("test_acc", Direction.HIGHER,
                          "108-epoch top-1 test accuracy (%), mean over runs; only in the imported official table"))
    return tuple(metrics)


def _datasets(source: str) -> dict[str, Dataset]:
    return {"cifar10": Dataset("cifar10", (3, 32, 32), 10, TaskKind.CLASSIFICATION, _metrics(source), "valid_acc")}


def normalize_sample(frame: pd.DataFrame) -> pd.DataFrame:
    """The 30k sample in the layout of an imported table (hash as ``arch``, accuracies in %)."""
    out = pd.DataFrame({"arch": frame["hash"].astype(str), "spec": frame["arch"].astype(str)})
    for e in EPOCHS:
        name = "valid_acc" if e == 108 else f"valid_acc_ep{e}"
        out[f"cifar10/{name}"] = 100.0 * frame[f"cifar10/valid_acc_ep{e}"].astype(float)
    out["cifar10/params"] = frame["cifar10/params"].astype("int64")
    out["cifar10/runs"] = 1
    return out


class NB101Benchmark(TableBenchmark):
    name = "nb101"
    description = "NAS-Bench-101 (423,624 cells; the 30k sample or an imported table)"
    datasets = _datasets(_SOURCE)

    def __init__(self, data_root: Path, *, trust_pickles: bool = False) -> None:
        super().__init__(data_root, trust_pickles=trust_pickles)
        # the metric descriptions (printed in reports) name the table actually in use
        self.datasets = _datasets(_SOURCE_FULL if (self.data_root / FULL_TABLE).is_file() else _SOURCE_SAMPLE)
    table_path = FULL_TABLE
    import_hint = "create it with 'nasproxy-bench import nb101 --source nasbench_only108.tfrecord'"

    @property
    def table_file(self) -> Path:
        full = self.data_root / FULL_TABLE
        return full if full.is_file() else self.data_root / SAMPLE_TABLE

    @property
    def ground_truth_source(self) -> str:
        if self.table_file.name == Path(FULL_TABLE).name:
            return f"{self.table_file}: imported official table, accuracies averaged over training runs"
        return f"{self.table_file}: 30k sample, 108-epoch validation accuracy of ONE training run (no test accuracy)"

    @cached_property
    def table(self) -> pd.DataFrame:
        path = self.table_file
        if not path.is_file():
            raise DataError(f"missing NB101 table: neither {self.data_root / FULL_TABLE} nor {path}; {self.import_hint}")
        try:
            frame = pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as exc:
            raise DataError(f"{path}: unreadable table ({exc}); re-create it with the importer") from None
        if "hash" in frame.columns and "spec" not in frame.columns:
            needed = {"hash", "arch", "cifar10/valid_acc_ep108", "cifar10/params"}
            missing = needed - set(frame.columns)
            if missing:
                raise DataError(f"{path}: missing columns {sorted(missing)}; not the NB101 30k sample")
            frame = normalize_sample(frame)
        self.validate_table(frame, path)
        return frame.set_index("arch", drop=False)

    def validate_table(self, frame: pd.DataFrame, path: Path) -> None:
        super().validate_table(frame, path)
        missing = {"spec", "cifar10/valid_acc", "cifar10/params"} - set(frame.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}; re-create it with the importer")
        if frame["arch"].duplicated().any():
            raise DataError(f"{path}: repeated hashes; re-create it with the importer")

    # -- architectures -----------------------------------------------------------------------
    def parse(self, text: str) -> NB101Spec:
        """A module hash present in the table, or JSON ``{"matrix": ..., "ops": ...}``."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError("empty NB101 architecture")
        text = text.strip()
        if HASH_RE.match(text):
            if text not in self.table.index:
                raise ValueError(f"NB101 hash {text} is not in {self.table_file.name}; give the cell as JSON instead")
            return NB101Spec.from_json(self.table.at[text, "spec"])
        return NB101Spec.from_json(text)

    def canonical(self, arch: NB101Spec) -> str:
        return arch.hash()

    # -- ground truth and costs ------------------------------------------------------------------
    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        spec = self.dataset(dataset)
        column = f"{dataset}/{spec.metric(metric).name}"
        if column not in self.table.columns:
            raise DataError(f"{self.table_file}: no column {column!r} ({self.ground_truth_source}); "
                            "import the official TFRecord for test accuracies")
        return self.table[column].astype(float)

    @cached_property
    def _flops_m(self) -> pd.Series:
        values = {}
        for arch, text in zip(self.table["arch"], self.table["spec"], strict=True):
            spec = NB101Spec.from_json(text)
            values[arch] = analytic_flops(spec.matrix, spec.ops) / 1e6
        return pd.Series(values, name="flops_M")

    def costs(self, dataset: str) -> pd.DataFrame:
        self.dataset(dataset)
        frame = pd.DataFrame({"params_M": self.table["cifar10/params"].astype(float) / 1e6})
        frame["flops_M"] = self._flops_m.reindex(frame.index)
        return frame

    # -- networks -----------------------------------------------------------------------------
    def build(self, arch: str, dataset: str) -> nn.Module:
        return self.build_with_width(arch, dataset, channels=STEM_CHANNELS)

    def build_with_width(self, arch: str, dataset: str, *, channels: int) -> nn.Module:
        """The official skeleton (3 stacks of 3 cells) with a ``channels``-wide stem instead of 128."""
        spec = self.parse(arch)
        return NB101Network(spec.matrix, spec.ops, self.dataset(dataset).num_outputs, stem_channels=channels)

    def cell_graph(self, arch: str) -> CellGraph:
        """The pruned cell: every vertex pair (s < t) is an edge, ``none`` where the matrix has none.

        Operations sit on vertices in NB101; an edge carries the operation of its target vertex.
        """
        spec = self.parse(arch)
        n = spec.num_vertices
        edges = {(s, t): (spec.ops[t] if spec.matrix[s][t] else "none") for t in range(1, n) for s in range(t)}
        widths = tuple(STEM_CHANNELS * 2**stack for stack in range(3) for _ in range(3))
        return CellGraph(n, edges, frozenset({"none"}), widths)

    # -- search ------------------------------------------------------------------------------
    def mutate(self, arch: str, rng: random.Random) -> str:
        """Flip one edge or change one interior operation of the cell (padded to 7 vertices).

        The result is pruned, hashed and must be a different architecture present in the
        table. Draws repeat up to ``MUTATION_TRIES`` times; after every ``MUTATION_TRIES // 4``
        failed draws one more edit is allowed (a cell like input->output has no valid
        one-edit neighbour: a new vertex needs two edges).
        """
        matrix, ops = padded(self.parse(arch), rng)
        known = self.table.index
        for attempt in range(MUTATION_TRIES):
            new_matrix = [row[:] for row in matrix]
            new_ops = ops[:]
            for _ in range(1 + attempt // (MUTATION_TRIES // 4)):
                if rng.random() < 0.5:
                    src = rng.randrange(MAX_VERTICES - 1)
                    dst = rng.randrange(src + 1, MAX_VERTICES)
                    new_matrix[src][dst] ^= 1
                else:
                    vertex = rng.randrange(1, MAX_VERTICES - 1)
                    new_ops[vertex] = rng.choice([op for op in OPS if op != new_ops[vertex]])
            try:
                child = NB101Spec.create(new_matrix, new_ops).hash()
            except ValueError:
                continue
            if child != arch and child in known:
                return child
        raise NasproxyError(f"no valid NB101 neighbour of {arch} in the table after {MUTATION_TRIES} tries")

    # -- official files ----------------------------------------------------------------------
    def import_table(self, source: Path, **_options: object) -> tuple[pd.DataFrame, Path]:
        from nasproxy_bench.adapters.nb101.importer import import_nb101

        return import_nb101(Path(source)), self.data_root / FULL_TABLE

    def verify(self, *, stride: int = 1, flops: bool = False) -> VerifyResult:
        from nasproxy_bench.adapters.nb101.verify import verify_table

        return verify_table(self, stride=stride, flops=flops)


def padded(spec: NB101Spec, rng: random.Random) -> tuple[list[list[int]], list[str]]:
    """The pruned cell as a 7-vertex matrix: unconnected vertices (random ops) before the output."""
    n = spec.num_vertices
    size = MAX_VERTICES
    matrix = [[0] * size for _ in range(size)]
    index = list(range(n - 1)) + [size - 1]  # old vertex -> new vertex
    for a in range(n):
        for b in range(n):
            matrix[index[a]][index[b]] = spec.matrix[a][b]
    ops = [INPUT] + [rng.choice(OPS) for _ in range(size - 2)] + [OUTPUT]
    for a in range(1, n - 1):
        ops[a] = spec.ops[a]
    return matrix, ops

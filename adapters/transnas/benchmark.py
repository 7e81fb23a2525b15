"""TransNAS-Bench-101 (Duan et al., CVPR'21): micro (4,096 cells) and macro (3,256 skeletons), 7 tasks.

Ground truth per task (``benchmarks/transnas/tnb101_{micro,macro}.csv``): the final-epoch
validation metric as in NAS-Bench-Suite-Zero (top-1 %, −L2, pixel accuracy %, SSIM; higher is
better) is the default; the best-epoch value is the second metric (segmentsemantic: best mIoU).
Proxy inputs are a surrogate (``adapters/transnas/inputs.py``): Taskonomy images are not here.
"""

from __future__ import annotations

import random
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from nasproxy_bench.adapters.transnas.arch import MICRO_EDGES, MICRO_OPS, MacroArch, MicroArch
from nasproxy_bench.adapters.transnas.decoders import (
    IMAGE_SIZE,
    JIGSAW_CLASSES,
    JIGSAW_TILES,
    OFFICIAL_CLASSES,
    ROOM_LAYOUT_OUTPUTS,
    SEGMENT_CLASSES,
    TILE_SIZE,
    task_network,
)
from nasproxy_bench.adapters.transnas.inputs import surrogate_batches
from nasproxy_bench.adapters.transnas.network import TransNASEncoder
from nasproxy_bench.benchmark import (
    CellGraph,
    Dataset,
    Direction,
    FamilyBenchmark,
    Metric,
    TableBenchmark,
    TaskKind,
    VerifyResult,
)
from nasproxy_bench.complexity import count_flops, count_params
from nasproxy_bench.errors import DataError, NasproxyError
from nasproxy_bench.tasks import (
    Classification,
    ImageToImage,
    PixelClassification,
    Regression,
    SoftLabelClassification,
    TaskIO,
)

IMAGE = (3, IMAGE_SIZE, IMAGE_SIZE)


def _metrics(final: str, best: str, what: str) -> tuple[Metric, Metric]:
    return (
        Metric(final, Direction.HIGHER, f"final-epoch validation {what}"),
        Metric(best, Direction.HIGHER, f"best-epoch validation {what}"),
    )


def _datasets() -> dict[str, Dataset]:
    src = surrogate_batches
    top1 = _metrics("valid_top1", "best_valid_top1", "top-1 accuracy (%)")
    ssim = _metrics("valid_ssim", "best_valid_ssim", "SSIM")
    spec: list[tuple[str, tuple[int, ...], int, TaskKind, tuple[Metric, ...], TaskIO]] = [
        ("class_scene", IMAGE, OFFICIAL_CLASSES["class_scene"], TaskKind.CLASSIFICATION, top1, SoftLabelClassification(src)),
        ("class_object", IMAGE, OFFICIAL_CLASSES["class_object"], TaskKind.CLASSIFICATION, top1, SoftLabelClassification(src)),
        ("jigsaw", (JIGSAW_TILES, 3, TILE_SIZE, TILE_SIZE), JIGSAW_CLASSES, TaskKind.CLASSIFICATION, top1, Classification(src)),
        ("room_layout", IMAGE, ROOM_LAYOUT_OUTPUTS, TaskKind.REGRESSION,
         _metrics("valid_neg_loss", "best_valid_neg_loss", "negative L2 loss"), Regression(src)),
        ("segmentsemantic", IMAGE, SEGMENT_CLASSES, TaskKind.DENSE,
         (Metric("valid_acc", Direction.HIGHER, "final-epoch validation pixel accuracy (%)"),
          Metric("best_miou", Direction.HIGHER, "best-epoch validation mIoU (%)")), PixelClassification(src)),
        ("normal", IMAGE, 3, TaskKind.DENSE, ssim, ImageToImage(src)),
        ("autoencoder", IMAGE, 3, TaskKind.DENSE, ssim, ImageToImage(src)),
    ]
    return {name: Dataset(name, shape, out, kind, metrics, metrics[0].name, io) for name, shape, out, kind, metrics, io in spec}


class TransNASBenchmark(TableBenchmark):
    """Shared by the micro and macro spaces; subclasses set the arch class and table."""

    datasets = _datasets()
    arch_class: type[MicroArch] | type[MacroArch] = MicroArch
    expected_rows = 0
    import_hint = "it ships with the shared data (see ../shared/README.md), or run 'nasproxy-bench import tnb101 --source <official .pth>'"
    space = "micro"

    def validate_table(self, frame: pd.DataFrame, path: Path) -> None:
        super().validate_table(frame, path)
        needed = {f"{name}/{ds.default_metric}" for name, ds in self.datasets.items()}
        missing = needed - set(frame.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}; replace it with the shared file")
        if len(frame) != self.expected_rows:
            raise DataError(f"{path}: {len(frame)} architectures, expected {self.expected_rows:,} (truncated?)")

    def parse(self, text: str) -> MicroArch | MacroArch:
        return self.arch_class.parse(text)

    def canonical(self, arch: MicroArch | MacroArch) -> str:
        return str(arch)

    def enumerate(self) -> list[str]:
        """Every architecture of the official space, from the space's rules (not from the table)."""
        return [str(a) for a in self.arch_class.enumerate()]

    def build(self, arch: str, dataset: str) -> nn.Module:
        self.dataset(dataset)
        return task_network(TransNASEncoder(self.parse(arch)), dataset)

    def mutate(self, arch: str, rng: random.Random) -> str:
        return str(self.parse(arch).mutate(rng))

    @cached_property
    def _cost_cache(self) -> dict[str, pd.DataFrame]:
        return {}

    def costs(self, dataset: str) -> pd.DataFrame:
        """Our networks' params_M and flops_M (conv + linear MACs per example; computed on the meta device, cached)."""
        self.dataset(dataset)
        if dataset not in self._cost_cache:
            rows = {a: self.arch_costs(a, dataset) for a in self.archs()}
            self._cost_cache[dataset] = pd.DataFrame.from_dict(rows, orient="index", columns=["params_M", "flops_M"])
        return self._cost_cache[dataset]

    def arch_costs(self, arch: str, dataset: str) -> tuple[float, float]:
        """(params_M, flops_M) of one task network, built and probed on the meta device (~0.3 s)."""
        return network_costs(self.name, type(self), arch, dataset)

    def verify(self, *, stride: int = 1, flops: bool = False) -> VerifyResult:
        from nasproxy_bench.adapters.transnas.verify import verify_transnas

        return verify_transnas(self, stride=stride)

    def import_table(self, source: Path, **_options: Any) -> tuple[pd.DataFrame, Path]:
        """This space's table from the official ``.pth`` (read through the safe unpickler)."""
        from nasproxy_bench.adapters.transnas.importer import read_official

        return self.table_from(read_official(Path(source), allow_unsafe=self.trust_pickles), str(source))

    def table_from(self, database: Any, source: str) -> tuple[pd.DataFrame, Path]:
        from nasproxy_bench.adapters.transnas.importer import space_table

        frame = space_table(database, self.space, source)
        for arch in frame["arch"]:
            try:
                if self.canonical(self.parse(arch)) != arch:
                    raise ValueError(f"not in canonical form (ours: {self.canonical(self.parse(arch))})")
            except ValueError as exc:
                raise DataError(f"{source} [{self.space}]: architecture {arch!r}: {exc}") from None
        return frame, self.data_root / self.table_path


@cache
def network_costs(_name: str, cls: type[TransNASBenchmark], arch: str, dataset: str) -> tuple[float, float]:
    bench = cls(Path("."))
    with torch.device("meta"):
        net = bench.build(arch, dataset)
    return count_params(net) / 1e6, count_flops(net, bench.datasets[dataset].input_shape) / 1e6


@cache
def micro_cost_terms(cls: type[TransNASBenchmark], dataset: str) -> tuple[tuple[float, float], dict[tuple[int, str], tuple[float, float]]]:
    """Costs of the all-zeroize cell network and the increment of each (edge, non-zero op)."""
    zero = "0" * len(MICRO_EDGES)
    base = network_costs(cls.name, cls, str(MicroArch(zero)), dataset)
    increments: dict[tuple[int, str], tuple[float, float]] = {}
    for edge in range(len(MICRO_EDGES)):
        for op in MICRO_OPS:
            ops = zero[:edge] + op + zero[edge + 1:]
            params, flops = network_costs(cls.name, cls, str(MicroArch(ops)), dataset) if op != "0" else base
            increments[edge, op] = (params - base[0], flops - base[1])
    return base, increments


class TNB101MicroBenchmark(TransNASBenchmark):
    name = "tnb101_micro"
    description = "TransNAS-Bench-101 micro (cell) space: 4,096 cells x 7 Taskonomy tasks"
    table_path = "benchmarks/transnas/tnb101_micro.csv"
    arch_class = MicroArch
    expected_rows = 4096

    def arch_costs(self, arch: str, dataset: str) -> tuple[float, float]:
        """Additive over the cell's edges: every edge's op is its own module whose cost does not
        depend on the other edges, and the skeleton and decoder are fixed. So the cost is that of
        the all-zeroize cell plus one measured increment per (edge, op): 19 probes per task for
        all 4,096 cells instead of 4,096 (checked equal to the direct count in the tests)."""
        base, increments = micro_cost_terms(type(self), dataset)
        params, flops = base
        for edge, op in enumerate(self.parse(arch).ops):
            params, flops = params + increments[edge, op][0], flops + increments[edge, op][1]
        return params, flops

    def cell_graph(self, arch: str) -> CellGraph:
        from nasproxy_bench.adapters.transnas.arch import MICRO_EDGES, MICRO_OPS

        ops = self.parse(arch).ops
        widths = tuple(w for w in (128, 128, 256, 256, 512) for _ in range(2))
        return CellGraph(4, {edge: MICRO_OPS[d] for edge, d in zip(MICRO_EDGES, ops, strict=True)}, frozenset({"zeroize"}), widths)


class TNB101MacroBenchmark(TransNASBenchmark):
    name = "tnb101_macro"
    description = "TransNAS-Bench-101 macro space: 3,256 ResNet-like skeletons x 7 Taskonomy tasks"
    table_path = "benchmarks/transnas/tnb101_macro.csv"
    arch_class = MacroArch
    expected_rows = 3256
    space = "macro"
    # 1: the shortcut BatchNorm's eps/momentum of 1, as the official builder makes it (session 20);
    # scores of the earlier networks (eps 1e-5) stay in old stores under the bare proxy version.
    network_revision = 1


class TNB101Family(FamilyBenchmark):
    """``tnb101``: both spaces at once, for ``import tnb101 --source <official .pth>`` (no architectures itself)."""

    name = "tnb101"
    description = "TransNAS-Bench-101 family: 'import tnb101 --source <official .pth>' writes the micro and macro tables"
    use_instead = "use tnb101_micro or tnb101_macro (see 'nasproxy-bench list')"

    def verify(self, *, stride: int = 1, flops: bool = False) -> VerifyResult:
        raise NasproxyError("verify each space: 'nasproxy-bench verify tnb101_micro' and 'verify tnb101_macro'")

    def import_tables(self, source: Path, **_options: Any) -> list[tuple[pd.DataFrame, Path]]:
        """The micro and macro tables from one official ``.pth`` (a space missing there is an error)."""
        from nasproxy_bench.adapters.transnas.importer import read_official

        database = read_official(Path(source), allow_unsafe=self.trust_pickles)
        spaces = (TNB101MicroBenchmark, TNB101MacroBenchmark)
        return [cls(self.data_root, trust_pickles=self.trust_pickles).table_from(database, str(source)) for cls in spaces]


__all__ = ["TNB101MicroBenchmark", "TNB101MacroBenchmark", "TNB101Family", "TransNASBenchmark"]

"""The NDS spaces as benchmarks: one class per space file, registered by one loop.

``nds_<space>`` (lowercase file stem) has dataset ``imagenet`` where the release has
``<Space>_in.json`` (read as it comes from ``benchmarks/nds/``), ``imagenet-64`` and
``imagenet-32`` (the same ground truth, networks fed 64x64 / 32x32 inputs to keep proxies
affordable on CPU; ``--input-size`` picks them), and ``cifar10``
once ``nasproxy-bench import nds --source <official NDS folder or zip>`` has written
``benchmarks/nds/cifar10/<Space>.csv``. ``nds_resnet_reruns`` / ``nds_vanilla_reruns`` hold
the CIFAR-10 rerun files: two nets trained with 100 seeds each; their ground truth is the
mean over seeds and ``noise_floor()`` the spread. ``nds`` is the family: ``verify nds`` checks
every space present and ``import nds`` imports every CIFAR space found.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from torch import nn

from nasproxy_bench.adapters.nds.arch import CellArch, NDSArch, parse_arch
from nasproxy_bench.adapters.nds.entries import duplicates, entries_frame, official_entries, read_json
from nasproxy_bench.benchmark import Benchmark, CellGraph, Dataset, Direction, FamilyBenchmark, Metric, TaskKind, VerifyResult
from nasproxy_bench.errors import DataError, NasproxyError

FOLDER = "benchmarks/nds"
CIFAR_FOLDER = "benchmarks/nds/cifar10"
TEST_ACC = Metric("test_acc", Direction.HIGHER, "top-1 test accuracy (%) at the best epoch (100 - min_test_top1)")
FINAL_ACC = Metric("final_acc", Direction.HIGHER, "top-1 test accuracy (%) at the last epoch")
# Reduced ImageNet input sizes (``imagenet-<size>``): 32 is GenNAS's default ``--input_size``.
REDUCED_SIZES = (64, 32)

# (file stem, has ImageNet file, has CIFAR-10 file in the official release, rerun file)
SPACES: tuple[tuple[str, bool, bool, bool], ...] = (
    ("Amoeba", True, True, False), ("DARTS", True, True, False), ("DARTS_fix-w-d", True, True, False),
    ("DARTS_lr-wd", True, True, False), ("ENAS", True, True, False), ("ENAS_fix-w-d", False, True, False),
    ("NASNet", True, True, False), ("PNAS", True, True, False), ("PNAS_fix-w-d", False, True, False),
    ("ResNeXt-A", True, True, False), ("ResNeXt-B", True, True, False), ("ResNet", False, True, False),
    ("ResNet-B", False, True, False), ("ResNet_lr-wd", True, True, False), ("Vanilla", False, True, False),
    ("Vanilla_lr-wd", True, True, False), ("ResNet_reruns", False, True, True), ("Vanilla_reruns", False, True, True),
)


def _dataset(name: str, size: int, classes: int) -> Dataset:
    return Dataset(name, (3, size, size), classes, TaskKind.CLASSIFICATION, (TEST_ACC, FINAL_ACC), "test_acc")


def is_reduced(dataset: str) -> bool:
    """True for ``imagenet-<size>``: the ImageNet entries again, only fed smaller inputs."""
    return dataset.startswith("imagenet-")


class NDSBenchmark(Benchmark):
    """One NDS space; subclasses (made by ``_space_class``) set the file stem and datasets."""

    stem: str = ""
    reruns: bool = False

    @property
    def with_optim(self) -> bool:
        return "lr-wd" in self.stem

    # -- tables ----------------------------------------------------------------------------
    def source_path(self, dataset: str) -> Path:
        self.dataset(dataset)
        if dataset.startswith("imagenet"):
            return self.data_root / FOLDER / f"{self.stem}_in.json"
        if self.reruns:
            return self.data_root / FOLDER / f"{self.stem}.json"
        return self.data_root / CIFAR_FOLDER / f"{self.stem}.csv"

    def entries(self, dataset: str) -> pd.DataFrame:
        """Every official entry of ``dataset`` as a normalized row (reruns: one row per seed)."""
        key = "imagenet" if dataset.startswith("imagenet") else dataset
        if key not in self._entries:
            self._entries[key] = self._read(dataset)
        return self._entries[key]

    @cached_property
    def _entries(self) -> dict[str, pd.DataFrame]:
        return {}

    def _read(self, dataset: str) -> pd.DataFrame:
        path = self.source_path(dataset)
        if path.suffix == ".json":
            classes = self.dataset(dataset).num_outputs
            return entries_frame(official_entries(read_json(path), path), str(path), with_optim=self.with_optim, classes=classes)
        if not path.is_file():
            raise DataError(f"missing {path}; create it with 'nasproxy-bench import nds --source <official NDS folder or zip>'")
        try:
            frame = pd.read_csv(path, keep_default_na=False, na_values=["nan", "NaN"])
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
            raise DataError(f"{path}: unreadable table ({exc}); re-create it with the importer") from None
        missing = {"arch", "params", "flops", "test_acc", "final_acc", "diverged"} - set(frame.columns)
        if missing:
            raise DataError(f"{path}: missing columns {sorted(missing)}; re-create it with the importer")
        frame["diverged"] = frame["diverged"].astype(str).str.lower().eq("true")
        return frame

    def present(self) -> list[str]:
        """Datasets whose official data is under the data root."""
        return [d for d in self.datasets if self.source_path(d).is_file()]

    def table(self, dataset: str) -> pd.DataFrame:
        """One row per architecture: ground truth averaged over repeats (rerun seeds), costs."""
        frame = self.entries(dataset)
        grouped = frame.groupby("arch", sort=False)
        ok = frame[~frame["diverged"]].groupby("arch", sort=False)
        out = pd.DataFrame({
            "params": grouped["params"].first(), "flops": grouped["flops"].first(),
            "runs": grouped.size(), "diverged_runs": grouped["diverged"].sum(),
            "test_acc": ok["test_acc"].mean(), "final_acc": ok["final_acc"].mean(),
        })
        return out.reindex(grouped.size().index)

    def duplicates(self, dataset: str) -> dict[str, int]:
        """Canonical strings that occur in more than one entry (expected only in rerun files)."""
        return duplicates(self.entries(dataset), repeats_expected=self.reruns)

    def exclusions(self, dataset: str) -> pd.Series:
        """Why an architecture has no ground truth: runs that diverged (error at chance or NaN)."""
        table = self.table(dataset)
        bad = table[table["test_acc"].isna()]
        return pd.Series("diverged: best test error NaN or within 1 point of chance", index=bad.index, name="reason")

    def entry_counts(self) -> dict[str, str]:
        """Official entries and distinct architectures of every dataset present."""
        counts = {}
        for dataset in self.present():
            if is_reduced(dataset):
                continue
            frame = self.entries(dataset)
            counts[dataset] = f"{len(frame)} entries, {frame['arch'].nunique()} architectures"
        return counts

    def noise_floor(self, dataset: str = "cifar10") -> pd.DataFrame:
        """Mean, std and n of each metric over the repeated runs of each architecture (reruns)."""
        frame = self.entries(dataset)
        frame = frame[~frame["diverged"]]
        stats = frame.groupby(["arch"], sort=False)[["test_acc", "final_acc"]].agg(["mean", "std", "count"])
        stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
        stats.insert(0, "group", frame.groupby("arch", sort=False)["group"].first())
        return stats

    # -- Benchmark API -----------------------------------------------------------------------
    def parse(self, text: str) -> NDSArch:
        return parse_arch(text, self.with_optim)

    def canonical(self, arch: NDSArch) -> str:
        return str(arch)

    def archs(self) -> Sequence[str]:
        datasets = self.present() or [next(iter(self.datasets))]
        seen: dict[str, None] = {}
        for dataset in datasets:
            if is_reduced(dataset):
                continue
            seen.update(dict.fromkeys(self.table(dataset).index))
        return list(seen)

    def ground_truth(self, dataset: str, metric: str | None = None) -> pd.Series:
        name = self.dataset(dataset).metric(metric).name
        return self.table(dataset)[name].astype(float).reindex(self.archs())

    def costs(self, dataset: str) -> pd.DataFrame:
        table = self.table(dataset)
        return pd.DataFrame({"params_M": table["params"] / 1e6, "flops_M": table["flops"] / 1e6}).reindex(self.archs())

    def build(self, arch: str, dataset: str) -> nn.Module:
        from nasproxy_bench.adapters.nds.anynet import AnyNetwork
        from nasproxy_bench.adapters.nds.cells import CellNetwork

        spec = self.dataset(dataset)
        net = self.parse(arch).net
        if isinstance(net, CellArch):
            return CellNetwork(net, spec.num_outputs, imagenet=dataset.startswith("imagenet"))
        return AnyNetwork(net, spec.num_outputs)

    def cell_graph(self, arch: str) -> CellGraph | None:
        """The normal cell as a one-input DAG (``adapters/nds/graph.py``); None for AnyNet spaces."""
        from nasproxy_bench.adapters.nds.graph import normal_cell_graph

        net = self.parse(arch).net
        return normal_cell_graph(net) if isinstance(net, CellArch) else None

    def mutate(self, arch: str, rng: random.Random) -> str:
        """A random one among the other entries nearest to ``arch`` in net configuration.

        The NDS spaces are samples, not enumerable grids, so an edit of the encoding would
        almost never land on an entry with ground truth; instead we move to a nearest
        neighbour in the table (distance: number of differing genotype slots, width and depth
        for cells; differing stage values for AnyNets; plus differing optimizer settings).
        """
        from nasproxy_bench.adapters.nds.neighbours import nearest

        others = [a for a in self.archs() if a != arch]
        if not others:
            raise NasproxyError(f"{self.name} has a single architecture; nothing to mutate to")
        return rng.choice(nearest(self.parse(arch), [self.parse(a) for a in others], others))

    def import_table(self, source: Path, **_options: Any) -> tuple[pd.DataFrame, Path]:
        from nasproxy_bench.adapters.nds.importer import import_space

        return import_space(self, Path(source)), self.data_root / CIFAR_FOLDER / f"{self.stem}.csv"

    def verify(self, *, stride: int = 1, flops: bool = True) -> VerifyResult:
        from nasproxy_bench.adapters.nds.verify import verify_space

        return verify_space(self, stride=stride)


def _space_class(stem: str, imagenet: bool, cifar: bool, reruns: bool) -> type[NDSBenchmark]:
    datasets = {}
    if imagenet:
        datasets["imagenet"] = _dataset("imagenet", 224, 1000)
        for size in REDUCED_SIZES:
            datasets[f"imagenet-{size}"] = _dataset(f"imagenet-{size}", size, 1000)
    if cifar:
        datasets["cifar10"] = _dataset("cifar10", 32, 10)
    kind = "AnyNet" if stem.startswith(("ResNet", "ResNeXt", "Vanilla")) else "cell"
    where = "CIFAR-10 reruns (2 nets x 100 seeds)" if reruns else ("ImageNet" if imagenet else "CIFAR-10 only, import first")
    attrs = {
        "name": f"nds_{stem.lower()}", "stem": stem, "reruns": reruns, "datasets": datasets,
        "description": f"NDS {stem} ({kind} space; {where})", "__module__": __name__,
    }
    return type(f"NDS_{stem.replace('-', '_')}", (NDSBenchmark,), attrs)


BENCHMARKS: list[type[Benchmark]] = [_space_class(*space) for space in SPACES]
SPACE_CLASSES: dict[str, type[NDSBenchmark]] = {cls.name: cls for cls in BENCHMARKS}  # type: ignore[misc]


class NDSFamily(FamilyBenchmark):
    """``nds``: the whole family, for ``verify nds`` and ``import nds`` (no architectures itself)."""

    name = "nds"
    description = "NDS family: 'verify nds' checks every space present, 'import nds' imports every CIFAR-10 space"
    use_instead = "use one space, e.g. nds_darts (see 'nasproxy-bench list')"

    def spaces(self) -> list[NDSBenchmark]:
        return [cls(self.data_root, trust_pickles=self.trust_pickles) for cls in SPACE_CLASSES.values()]

    def import_tables(self, source: Path, **_options: Any) -> list[tuple[pd.DataFrame, Path]]:
        from nasproxy_bench.adapters.nds.importer import import_family

        return import_family(self.spaces(), Path(source))

    def verify(self, *, stride: int = 1, flops: bool = True) -> VerifyResult:
        from nasproxy_bench.adapters.nds.verify import verify_family

        return verify_family(self.spaces(), stride=stride)


BENCHMARKS.append(NDSFamily)

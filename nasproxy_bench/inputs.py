"""The fixed proxy minibatch: one batch per (dataset, seed, batch size), reused for every network.

Images come from the official python layouts under the data root:
``inputs/cifar-10-batches-py/data_batch_*``, ``inputs/cifar-100-python/train`` and, for
ImageNet16-120, ``inputs/ImageNet16/train_data_batch_*`` (the downsampled-ImageNet pickles;
labels 1..1000, classes 1..120 kept). Where ImageNet16 is absent, a documented surrogate is
used: CIFAR-100 training images average-pooled to 16x16, with CIFAR-100 labels; every result
computed on it is marked ``surrogate`` in the store and in reports.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load

CIFAR10_DIR = "inputs/cifar-10-batches-py"
CIFAR100_DIR = "inputs/cifar-100-python"
IMAGENET16_DIR = "inputs/ImageNet16"

# Per-channel normalisation constants used by the NB201 training pipeline.
MEAN_STD = {
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "ImageNet16-120": ((0.4811, 0.4575, 0.4078), (0.2471, 0.2405, 0.2507)),
}
SOURCE_OF = {"cifar10": "cifar10", "cifar10-valid": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "ImageNet16-120"}
# Full-size ImageNet is not shipped: NDS ImageNet networks see CIFAR-100 training images
# upsampled (bilinear) to the dataset's resolution, marked ``surrogate`` everywhere.
IMAGENET_SURROGATE_SIZE = {"imagenet": 224, "imagenet-64": 64, "imagenet-32": 32}


@dataclass(frozen=True)
class Batch:
    """A labelled minibatch with where it came from (``surrogate`` marks stand-in inputs)."""

    x: torch.Tensor
    y: torch.Tensor
    source: str
    surrogate: bool
    seed: int

    def to(self, device: torch.device | str) -> Batch:
        return Batch(self.x.to(device), self.y.to(device), self.source, self.surrogate, self.seed)


def _load_records(paths: list[Path], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for path in paths:
        record = safe_load(path)
        try:
            data = np.asarray(record["data"], dtype=np.uint8)
            label = np.asarray(record[label_key], dtype=np.int64)
        except (KeyError, TypeError):
            raise DataError(f"{path}: no '{label_key}'/'data' entries; not an official python batch") from None
        if data.ndim != 2 or len(data) != len(label):
            raise DataError(f"{path}: data/labels shapes {data.shape}/{label.shape} disagree (truncated?)")
        images.append(data)
        labels.append(label)
    return np.concatenate(images), np.concatenate(labels)


def _require(paths: list[Path], what: str) -> list[Path]:
    missing = [p for p in paths if not p.is_file()]
    if not paths or missing:
        where = missing[0] if missing else "(none found)"
        raise DataError(f"missing {what} file {where}; place the official python version under the data root")
    return paths


@lru_cache(maxsize=8)
def load_images(data_root: Path, source: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """All available training images of ``source`` as uint8 NCHW, labels, and a surrogate flag."""
    root = Path(data_root)
    if source == "cifar10":
        paths = _require([root / CIFAR10_DIR / f"data_batch_{i}" for i in range(1, 6)], "CIFAR-10")
        data, labels = _load_records(paths, "labels")
        return data.reshape(-1, 3, 32, 32), labels, False
    if source == "cifar100":
        data, labels = _load_records(_require([root / CIFAR100_DIR / "train"], "CIFAR-100"), "fine_labels")
        return data.reshape(-1, 3, 32, 32), labels, False
    if source == "ImageNet16-120":
        paths = sorted((root / IMAGENET16_DIR).glob("train_data_batch_*"))
        if paths:
            data, labels = _load_records(paths, "labels")
            keep = labels <= 120
            return data[keep].reshape(-1, 3, 16, 16), labels[keep] - 1, False
        data, labels, _ = load_images(root, "cifar100")
        pooled = data.reshape(-1, 3, 16, 2, 16, 2).astype(np.float32).mean(axis=(3, 5))
        return np.round(pooled).astype(np.uint8), labels, True
    raise DataError(f"no input images are defined for {source!r}")


def _pick(n_available: int, count: int, seed: int, source: str) -> np.ndarray:
    """Seeded choice of ``count`` distinct images, stable across numpy versions."""
    if count > n_available:
        raise DataError(f"{count} images requested but only {n_available} {source} images are available")
    keys = [hashlib.sha256(f"batch:{source}:{seed}:{i}".encode()).digest() for i in range(n_available)]
    return np.array(sorted(range(n_available), key=keys.__getitem__)[:count])


def fixed_batches(data_root: Path, dataset: str, seed: int, batch_size: int, count: int = 1) -> list[Batch]:
    """The ``count`` disjoint minibatches that every architecture of a run sees (normalised).

    The first batch depends only on (dataset, seed, batch size): asking for more batches
    never changes it.
    """
    if count == 0:
        return []
    size = IMAGENET_SURROGATE_SIZE.get(dataset)
    source = _image_source(dataset)
    if source is None:
        raise DataError(f"no image inputs for dataset {dataset!r}")
    images, labels, surrogate = load_images(Path(data_root), source)
    chosen = _pick(len(images), batch_size * count, seed, source)
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in MEAN_STD[source])
    name = f"{source} (CIFAR-100 downsampled to 16x16)" if surrogate else source
    if size:
        name, surrogate = f"CIFAR-100 upsampled to {size}x{size} (surrogate for ImageNet)", True
    out = []
    for part in np.split(chosen, count):
        x = (torch.from_numpy(images[part]).float() / 255.0 - mean) / std
        if size:
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        out.append(Batch(x.contiguous(), torch.from_numpy(labels[part]), name, surrogate, seed))
    return out


def _image_source(dataset: str) -> str | None:
    """Which image set (and normalisation) ``fixed_batches`` uses for ``dataset``; None when it has none."""
    return "cifar100" if dataset in IMAGENET_SURROGATE_SIZE else SOURCE_OF.get(dataset)


def black_pixel(dataset: str) -> torch.Tensor | None:
    """Per-channel value of a black (all-zero) pixel after ``fixed_batches``' normalisation of ``dataset``.

    Zero padding in pixel space (torchvision's ``RandomCrop(padding=...)`` before ``Normalize``)
    is this value in a normalised batch. None for datasets without image batches here.
    """
    source = _image_source(dataset)
    if source is None:
        return None
    mean, std = MEAN_STD[source]
    return torch.tensor([-m / s for m, s in zip(mean, std, strict=True)])


def fixed_batch(data_root: Path, dataset: str, seed: int, batch_size: int) -> Batch:
    """The one minibatch that every architecture of a run sees."""
    return fixed_batches(data_root, dataset, seed, batch_size, 1)[0]

"""Surrogate Taskonomy minibatches for TransNAS-Bench-101 proxies (the Taskonomy images are not here).

Inputs are real CIFAR-10 training images (the same seeded choice as CIFAR-10 runs), resized
bilinearly to 256x256 and normalised with each task's official constants; jigsaw cuts a
192x192 resize into 3x3 tiles of 64x64 and shuffles them by one of 1,000 fixed permutations.
Targets are synthetic but of the official shape and type, seeded per (task, seed, sample):

- class_object / class_scene: soft labels, softmax of 3·N(0, 1) logits over 75 / 47 classes;
- jigsaw: the permutation's index (0..999);
- room_layout: 9 values ~ N(0, 1);
- segmentsemantic: 17-class maps, constant on 16x16-pixel blocks;
- normal: smooth 3-channel maps in (−1, 1) (tanh of upsampled 8x8 noise);
- autoencoder: the input image itself (normalised to [−1, 1], the generator's tanh range).

Every batch is marked ``surrogate``; the run's provenance records the source string.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from nasproxy_bench.adapters.transnas.decoders import (
    IMAGE_SIZE,
    JIGSAW_CLASSES,
    JIGSAW_TILES,
    OFFICIAL_CLASSES,
    ROOM_LAYOUT_OUTPUTS,
    SEGMENT_CLASSES,
    TILE_SIZE,
)
from nasproxy_bench.errors import DataError
from nasproxy_bench.inputs import Batch, _pick, load_images

CLASSIFY_NORM = ((0.5224, 0.5222, 0.5221), (0.2234, 0.2235, 0.2236))  # class_*, room_layout
PIX2PIX_NORM = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # segmentsemantic, normal, autoencoder
NORM = {"class_object": CLASSIFY_NORM, "class_scene": CLASSIFY_NORM, "room_layout": CLASSIFY_NORM}
TASKS = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal", "autoencoder")
PERMUTATION_SEED = 101


def _generator(*parts: object) -> torch.Generator:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") & (2**63 - 1))


def jigsaw_permutations() -> torch.Tensor:
    """1,000 fixed distinct tile orders (seeded), standing in for the official max-Hamming set."""
    gen = _generator("jigsaw-permutations", PERMUTATION_SEED)
    seen: dict[tuple[int, ...], None] = {}
    while len(seen) < JIGSAW_CLASSES:
        seen.setdefault(tuple(torch.randperm(JIGSAW_TILES, generator=gen).tolist()), None)
    return torch.tensor(list(seen))


def _resize(images: np.ndarray, size: int) -> torch.Tensor:
    x = torch.from_numpy(images).float() / 255.0
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def _normalise(x: torch.Tensor, norm: tuple[tuple[float, ...], tuple[float, ...]]) -> torch.Tensor:
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in norm)
    return (x - mean) / std


def _target(task: str, seed: int, index: int, image: torch.Tensor) -> torch.Tensor:
    gen = _generator("taskonomy-surrogate", task, seed, index)
    if task in OFFICIAL_CLASSES:
        return torch.softmax(3 * torch.randn(OFFICIAL_CLASSES[task], generator=gen), dim=0)
    if task == "room_layout":
        return torch.randn(ROOM_LAYOUT_OUTPUTS, generator=gen)
    if task == "segmentsemantic":
        blocks = torch.randint(0, SEGMENT_CLASSES, (1, 1, IMAGE_SIZE // 16, IMAGE_SIZE // 16), generator=gen)
        return F.interpolate(blocks.float(), size=(IMAGE_SIZE, IMAGE_SIZE), mode="nearest")[0, 0].long()
    if task == "normal":
        noise = torch.randn((1, 3, 8, 8), generator=gen)
        return torch.tanh(F.interpolate(noise, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear", align_corners=False))[0]
    if task == "autoencoder":
        return image.clone()
    raise DataError(f"no surrogate targets for TransNAS task {task!r}")


def _jigsaw(images: np.ndarray, seed: int, offset: int) -> tuple[torch.Tensor, torch.Tensor]:
    perms = jigsaw_permutations()
    x = _resize(images, 3 * TILE_SIZE)
    tiles, labels = [], []
    for i, image in enumerate(x):
        label = int(torch.randint(0, JIGSAW_CLASSES, (1,), generator=_generator("jigsaw", seed, offset + i)))
        grid = image.unfold(1, TILE_SIZE, TILE_SIZE).unfold(2, TILE_SIZE, TILE_SIZE)  # 3, 3, 3, 64, 64
        pieces = grid.permute(1, 2, 0, 3, 4).reshape(JIGSAW_TILES, 3, TILE_SIZE, TILE_SIZE)
        tiles.append(pieces[perms[label]])
        labels.append(label)
    return torch.stack(tiles), torch.tensor(labels)


def surrogate_batches(data_root: Path, task: str, seed: int, batch_size: int, count: int) -> list[Batch]:
    """``count`` disjoint surrogate batches for ``task`` (a ``nasproxy_bench.tasks.BatchSource``)."""
    if task not in TASKS:
        raise DataError(f"no surrogate inputs for TransNAS task {task!r}; tasks are {', '.join(TASKS)}")
    images, _labels, _ = load_images(Path(data_root), "cifar10")
    chosen = _pick(len(images), batch_size * count, seed, "cifar10")
    source = f"Taskonomy surrogate for {task}: CIFAR-10 images resized to {IMAGE_SIZE}x{IMAGE_SIZE}, synthetic targets"
    out = []
    for part_index, part in enumerate(np.split(chosen, count)):
        offset = part_index * batch_size
        if task == "jigsaw":
            x, y = _jigsaw(images[part], seed, offset)
        else:
            x = _normalise(_resize(images[part], IMAGE_SIZE), NORM.get(task, PIX2PIX_NORM))
            y = torch.stack([_target(task, seed, offset + i, img) for i, img in enumerate(x)])
        out.append(Batch(x.contiguous(), y, source, True, seed))
    return out

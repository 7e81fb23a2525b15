"""The public GenNAS code's one-time augmentation of its fixed image batch.

GenNAS's ``builder_task.py`` draws its 16 images once from a training loader built by
``foresight/dataset.py:get_cifar_dataloaders``. It asks for ``pad=False``, but the dataset branch
sets ``pad`` (4 for CIFAR at 32x32, 2 for ImageNet16 at 16x16) before the check, so the images
pass through ``RandomCrop(size, padding=pad)`` (zero fill in pixel space) and
``RandomHorizontalFlip`` once; every architecture then trains on the same augmented batch.
``crop_flip`` applies that to an already normalised batch: the padding is the normalised value
of a black pixel, the padding width is size // 8 (the public code's 4 at 32 and 2 at 16), and
the crop offsets and flips are drawn from a generator of their own, so the same seed gives
the same batch for every architecture.
"""

from __future__ import annotations

import torch

AUGMENTS = ("none", "crop_flip")
SEED_OFFSET = 0x6A7  # the augmentation's own stream, apart from the targets' generator (same run seed)


def crop_flip(images: torch.Tensor, fill: torch.Tensor, seed: int) -> torch.Tensor:
    """``images`` (N, C, H, W), each zero-padded by H // 8 with ``fill`` (C values), randomly cropped back
    to H x W and flipped left-right with probability 1/2; deterministic in ``seed``."""
    n, channels, height, width = images.shape
    if fill.shape != (channels,):
        raise ValueError(f"fill needs one value per channel ({channels}), got shape {tuple(fill.shape)}")
    pad = height // 8
    gen = torch.Generator().manual_seed(seed + SEED_OFFSET)
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=gen)
    flips = torch.rand(n, generator=gen) < 0.5
    padded = fill.to(images).view(1, channels, 1, 1).repeat(n, 1, height + 2 * pad, width + 2 * pad)
    padded[:, :, pad:pad + height, pad:pad + width] = images
    out = torch.empty_like(images)
    for i in range(n):
        dy, dx = (int(v) for v in offsets[i])
        crop = padded[i, :, dy:dy + height, dx:dx + width]
        out[i] = crop.flip(-1) if flips[i] else crop
    return out

"""GenNAS synthetic signal bases: 8x8 maps that a network's stage heads learn to regress.

Every function draws its randomness from the ``torch.Generator`` it is given, so a target
tensor is a pure function of (task, images, generator seed). Maps are ``size x size`` with
pixel indices 0..size-1 as ``x`` (columns) and ``y`` (rows).

Facts taken from the public GenNAS code (leeyeehoo/GenNAS, ``utils/tricks.py``,
``builder_task.py``): a Sin map gets a frequency drawn from the 10 frequencies of its band,
a phase uniform in [0, 2pi) and, for Sin1D, an axis x or y at random; Sin2D also takes the
y-flipped map (a sign flip of the y term); Dot sets ``int(k * size * size)`` distinct pixels
to +-1 with equal odds; GDot smooths a Dot map with a Gaussian of sigma 1
(``scipy.ndimage.gaussian_filter``, reflect border) and divides by its largest magnitude;
Resize is the (normalised) image batch resized to 8x8 by nearest-neighbour interpolation
and min-max scaled over the whole batch to [-1, 1], each target channel one of the image's
colour channels at random.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

SIZE = 8

# Frequency bands (cycles per pixel). M and H are the lists of the public code's CONF_COMBO
# and CONF_NLP_* presets; L is not listed there, so it is ours: the paper's range (0, 0.125)
# with the H band's step, starting at the band edge like M and H do.
BANDS: dict[str, tuple[float, ...]] = {
    "L": tuple(round(0.0125 * k, 6) for k in range(10)),
    "M": tuple(round(0.125 + 0.025 * k, 6) for k in range(10)),
    "H": tuple(round(0.375 + 0.0125 * k, 6) for k in range(10)),
}
BASES = ("sin1d", "sin2d", "dot", "gdot", "resize", "zero")


def _pick(values: torch.Tensor, count: int, gen: torch.Generator) -> torch.Tensor:
    return values[torch.randint(len(values), (count,), generator=gen)]


def _phases(count: int, phase: float | None, gen: torch.Generator) -> torch.Tensor:
    if phase is None:
        return torch.rand(count, generator=gen, dtype=torch.float64) * 2 * math.pi
    return torch.full((count,), float(phase), dtype=torch.float64)


def sin1d(count: int, frequencies: tuple[float, ...], gen: torch.Generator, *, axis: str = "random",
          phase: float | None = None, size: int = SIZE) -> torch.Tensor:
    """``count`` maps sin(2 pi f x + phi) (or in y); ``phase=None`` draws phi per map."""
    freq = _pick(torch.tensor(frequencies, dtype=torch.float64), count, gen)
    phi = _phases(count, phase, gen)
    if axis == "random":
        along_x = torch.rand(count, generator=gen) < 0.5
    else:
        along_x = torch.full((count,), axis == "x")
    pos = torch.arange(size, dtype=torch.float64)
    x = pos.view(1, 1, size).expand(count, size, size)
    y = pos.view(1, size, 1).expand(count, size, size)
    coord = torch.where(along_x.view(count, 1, 1), x, y)
    maps = torch.sin(2 * math.pi * freq.view(count, 1, 1) * coord + phi.view(count, 1, 1))
    return maps.float()


def sin2d(count: int, frequencies: tuple[float, ...], gen: torch.Generator, *, phase: float | None = None,
          size: int = SIZE) -> torch.Tensor:
    """``count`` maps sin(2 pi f_x x +- 2 pi f_y y + phi), f_x and f_y drawn independently."""
    table = torch.tensor(frequencies, dtype=torch.float64)
    fx, fy = _pick(table, count, gen), _pick(table, count, gen)
    sign = torch.where(torch.rand(count, generator=gen) < 0.5, -1.0, 1.0).double()
    phi = _phases(count, phase, gen)
    pos = torch.arange(size, dtype=torch.float64)
    x, y = pos.view(1, 1, size), pos.view(1, size, 1)
    arg = 2 * math.pi * (fx.view(count, 1, 1) * x + sign.view(count, 1, 1) * fy.view(count, 1, 1) * y)
    return torch.sin(arg + phi.view(count, 1, 1)).float()


def dot(count: int, fraction: float, gen: torch.Generator, *, size: int = SIZE, width: int | None = None) -> torch.Tensor:
    """``count`` zero maps (``size`` x ``width``, square by default) with ``int(fraction * pixels)``
    distinct pixels set to +-1."""
    width = size if width is None else width
    pixels = size * width
    n_set = int(fraction * pixels)
    order = torch.rand(count, pixels, generator=gen).argsort(dim=1)[:, :n_set]
    signs = torch.where(torch.rand(count, n_set, generator=gen) < 0.5, -1.0, 1.0)
    maps = torch.zeros(count, pixels)
    maps.scatter_(1, order, signs)
    return maps.view(count, size, width)


def gdot(count: int, fraction: float, gen: torch.Generator, *, size: int = SIZE, width: int | None = None) -> torch.Tensor:
    """Dot maps smoothed by a Gaussian (sigma 1) and divided by their largest magnitude."""
    dots = dot(count, fraction, gen, size=size, width=width).double().numpy()
    smooth = np.stack([gaussian_filter(m, sigma=1.0) for m in dots])
    peak = np.abs(smooth).reshape(count, -1).max(axis=1).reshape(count, 1, 1)
    return torch.from_numpy(np.divide(smooth, peak, out=np.zeros_like(smooth), where=peak > 0)).float()


def resized_images(images: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """The image batch resized to ``size`` (nearest) and min-max scaled over the batch to [-1, 1]."""
    small = F.interpolate(images.detach().float().cpu(), size=(size, size))
    low, high = small.min(), small.max()
    if high <= low:
        return torch.zeros_like(small)
    return (small - low) / (high - low) * 2 - 1


def resize(images: torch.Tensor, channels: int, gen: torch.Generator, *, size: int = SIZE) -> torch.Tensor:
    """``channels`` target channels, each one colour channel of the resized images (b x channels x size x size)."""
    small = resized_images(images, size)
    pick = torch.randint(small.shape[1], (channels,), generator=gen)
    return small[:, pick]


def noise(shape: tuple[int, ...], kind: str, level: float, gen: torch.Generator) -> torch.Tensor:
    """Input noise: ``level`` x N(0, 1), or uniform on [-level, level]; zeros for ``none``."""
    if kind == "none" or level == 0:
        return torch.zeros(shape)
    if kind == "gaussian":
        return torch.randn(shape, generator=gen) * level
    if kind == "uniform":
        return (torch.rand(shape, generator=gen) * 2 - 1) * level
    raise ValueError(f"unknown noise type {kind!r}; use none, gaussian or uniform")

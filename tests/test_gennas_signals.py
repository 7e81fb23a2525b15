"""GenNAS signal bases on hand-checked small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from nasproxy_bench.gennas import signals


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_bands_match_public_code_lists():
    assert signals.BANDS["M"] == pytest.approx([0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.275, 0.3, 0.325, 0.35])
    assert signals.BANDS["H"] == pytest.approx([0.375, 0.3875, 0.4, 0.4125, 0.425, 0.4375, 0.45, 0.4625, 0.475, 0.4875])
    assert max(signals.BANDS["L"]) < 0.125 <= min(signals.BANDS["M"])


def test_sin1d_quarter_frequency_values():
    # f = 1/4, phase 0, along x: sin(pi/2 * x) = 0, 1, 0, -1, ... constant down each column.
    maps = signals.sin1d(1, (0.25,), gen(), axis="x", phase=0.0)
    expected_row = torch.tensor([0.0, 1, 0, -1, 0, 1, 0, -1])
    assert torch.allclose(maps[0], expected_row.expand(8, 8), atol=1e-6)
    maps_y = signals.sin1d(1, (0.25,), gen(), axis="y", phase=0.0)
    assert torch.allclose(maps_y[0], expected_row.view(8, 1).expand(8, 8), atol=1e-6)


def test_sin1d_frequency_by_fft():
    # On a 64-pixel line, f = 0.125 cycles/pixel puts the spectrum's peak at bin 8.
    maps = signals.sin1d(3, (0.125,), gen(1), axis="x", size=64)  # random phases
    spectrum = np.abs(np.fft.rfft(maps[:, 0, :].numpy(), axis=1))
    assert (spectrum.argmax(axis=1) == 8).all()


def test_sin1d_zero_crossings_count_frequency():
    # zeros of sin(2 pi x / 16 - 0.3) at x = 8k + 0.76, k = 0..7, inside 0..63
    maps = signals.sin1d(1, (0.0625,), gen(), axis="x", phase=-0.3, size=64)
    row = maps[0, 0].numpy()
    crossings = int((np.sign(row[:-1]) != np.sign(row[1:])).sum())
    assert crossings == 8  # 64 * 0.0625 = 4 periods, 2 crossings each


def test_sin2d_is_a_plane_wave():
    maps = signals.sin2d(20, (0.25,), gen(2), phase=0.0)
    x = torch.arange(8.0).view(1, 8)
    y = torch.arange(8.0).view(8, 1)
    plus = torch.sin(2 * math.pi * 0.25 * (x + y))
    minus = torch.sin(2 * math.pi * 0.25 * (x - y))
    for m in maps:
        assert torch.allclose(m, plus, atol=1e-5) or torch.allclose(m, minus, atol=1e-5)
    kinds = {bool(torch.allclose(m, plus, atol=1e-5)) for m in maps}
    assert kinds == {True, False}  # both signs occur (the public code's y-flipped copies)


@pytest.mark.parametrize(("fraction", "count"), [(1.0, 64), (0.5, 32), (0.25, 16), (1 / 64, 1)])
def test_dot_density_and_values(fraction, count):
    maps = signals.dot(50, fraction, gen(3))
    assert maps.shape == (50, 8, 8)
    assert ((maps != 0).flatten(1).sum(1) == count).all()
    assert set(maps.unique().tolist()) <= {-1.0, 0.0, 1.0}


def test_dot_signs_are_balanced():
    maps = signals.dot(200, 1.0, gen(4))
    assert abs(float(maps.mean())) < 0.02  # 12800 +-1 draws: sd of the mean ~ 0.009


def test_gdot_range_and_smoothing():
    maps = signals.gdot(30, 0.5, gen(5))
    peak = maps.abs().flatten(1).max(1).values
    assert torch.allclose(peak, torch.ones(30))
    assert float(maps.min()) >= -1 and float(maps.max()) <= 1
    # Same draw without smoothing, smoothed with scipy (sigma 1, reflect) and rescaled by hand.
    dots = signals.dot(30, 0.5, gen(5)).double().numpy()
    smooth = np.stack([gaussian_filter(d, 1.0) for d in dots])
    expected = smooth / np.abs(smooth).reshape(30, -1).max(1).reshape(30, 1, 1)
    assert np.allclose(maps.numpy(), expected, atol=1e-6)


def test_resize_nearest_and_scaled_to_unit_range():
    images = torch.arange(2 * 3 * 32 * 32, dtype=torch.float32).view(2, 3, 32, 32)
    small = signals.resized_images(images)
    assert small.shape == (2, 3, 8, 8)
    assert float(small.min()) == -1.0 and float(small.max()) == 1.0
    # nearest 32 -> 8 takes pixels 0, 4, ..., 28: the smallest kept value is 0 (image 0, channel 0,
    # pixel (0, 0)) and the largest images[1, 2, 28, 28]; the scaling is linear between them.
    top = float(images[1, 2, 28, 28])
    assert float(small[0, 0, 0, 1]) == pytest.approx(4 / top * 2 - 1)
    assert float(small[0, 1, 2, 3]) == pytest.approx(float(images[0, 1, 8, 12]) / top * 2 - 1)
    picked = signals.resize(images, 10, gen(6))
    assert picked.shape == (2, 10, 8, 8)
    for c in range(10):
        assert any(torch.equal(picked[:, c], small[:, k]) for k in range(3))


def test_noise_ranges_and_determinism():
    u = signals.noise((4000,), "uniform", 0.3, gen(7))
    assert float(u.abs().max()) <= 0.3 and float(u.abs().max()) > 0.29
    g = signals.noise((4000,), "gaussian", 0.5, gen(7))
    assert float(g.std()) == pytest.approx(0.5, rel=0.05)
    assert torch.equal(signals.noise((10,), "gaussian", 0.5, gen(8)), signals.noise((10,), "gaussian", 0.5, gen(8)))
    assert not signals.noise((10,), "none", 0.5, gen()).any()

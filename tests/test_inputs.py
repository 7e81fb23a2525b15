import pickle

import numpy as np
import pytest
import torch

from nasproxy_bench.errors import DataError
from nasproxy_bench.inputs import fixed_batch, fixed_batches, load_images


def test_fixed_batch_is_deterministic_and_seeded(fake_root):
    a = fixed_batch(fake_root, "cifar10", seed=0, batch_size=16)
    b = fixed_batch(fake_root, "cifar10", seed=0, batch_size=16)
    c = fixed_batch(fake_root, "cifar10", seed=1, batch_size=16)
    assert a.x.shape == (16, 3, 32, 32) and a.x.dtype == torch.float32
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    assert not a.surrogate and a.source == "cifar10"


def test_more_batches_never_change_the_first_and_are_disjoint(fake_root):
    one = fixed_batch(fake_root, "cifar100", seed=3, batch_size=8)
    two = fixed_batches(fake_root, "cifar100", seed=3, batch_size=8, count=2)
    assert torch.equal(one.x, two[0].x)
    rows_a = {tuple(r) for r in two[0].x.flatten(1)[:, :8].tolist()}
    rows_b = {tuple(r) for r in two[1].x.flatten(1)[:, :8].tolist()}
    assert not rows_a & rows_b


def test_cifar_pixels_are_normalised_from_the_official_layout(fake_root):
    images, labels, surrogate = load_images(fake_root, "cifar10")
    assert images.shape == (200, 3, 32, 32) and labels.max() < 10 and not surrogate
    batch = fixed_batch(fake_root, "cifar10", seed=0, batch_size=200)
    # mean of the normalised batch ≈ (mean pixel/255 - channel mean)/std for uniform random pixels
    expected = (127.5 / 255 - 0.4914) / 0.2470
    assert batch.x[:, 0].mean().item() == pytest.approx(expected, abs=0.05)


def test_imagenet16_official_layout(tmp_path):
    folder = tmp_path / "inputs/ImageNet16"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in (1, 2):
        record = {"data": rng.integers(0, 256, size=(50, 768), dtype=np.uint8), "labels": list(range(100 * i - 99, 100 * i - 49))}
        (folder / f"train_data_batch_{i}").write_bytes(pickle.dumps(record))
    images, labels, surrogate = load_images(tmp_path, "ImageNet16-120")
    # labels are 1-based; only classes 1..120 are kept (50 + 20 images), shifted to 0..119
    assert not surrogate and images.shape == (70, 3, 16, 16)
    assert labels.min() == 0 and labels.max() == 119


def test_imagenet16_surrogate_is_marked(fake_root):
    batch = fixed_batch(fake_root, "ImageNet16-120", seed=0, batch_size=8)
    assert batch.surrogate and batch.x.shape == (8, 3, 16, 16)
    assert "CIFAR-100 downsampled" in batch.source


def test_bad_inputs_are_clear_errors(fake_root, tmp_path):
    with pytest.raises(DataError, match="exceeds|only 200"):
        fixed_batch(fake_root, "cifar10", seed=0, batch_size=1000)
    with pytest.raises(DataError, match="missing CIFAR-10 file"):
        fixed_batch(tmp_path, "cifar10", seed=0, batch_size=4)
    folder = tmp_path / "inputs/cifar-100-python"
    folder.mkdir(parents=True)
    (folder / "train").write_bytes(b"\x80\x02}q\x00(X")
    with pytest.raises(DataError, match="truncated or corrupt"):
        fixed_batch(tmp_path, "cifar100", seed=0, batch_size=4)

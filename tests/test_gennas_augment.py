"""The public code's one-time crop/flip of the fixed GenNAS batch (``gennas.augment``) and its task field."""

from __future__ import annotations

import pytest
import torch

from nasproxy_bench.benchmark import Dataset, Metric, TaskKind
from nasproxy_bench.gennas.augment import crop_flip
from nasproxy_bench.gennas.proxies import score_task, task_images, task_spec
from nasproxy_bench.gennas.regression import regression_score
from nasproxy_bench.gennas.task import TaskError, parse_task, task_to_doc
from nasproxy_bench.inputs import MEAN_STD, Batch, black_pixel
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_UNSUPPORTED
from tests.test_gennas_regression import images, short, small_net


def _ramp(n: int = 3, size: int = 16) -> torch.Tensor:
    """Distinct values everywhere, so every crop offset and flip is identifiable."""
    return torch.arange(n * 3 * size * size, dtype=torch.float32).view(n, 3, size, size) + 1.0


def _which_crop(padded: torch.Tensor, out: torch.Tensor, size: int) -> set[tuple[int, int, bool]]:
    found = set()
    for dy in range(padded.shape[-2] - size + 1):
        for dx in range(padded.shape[-1] - size + 1):
            crop = padded[:, dy:dy + size, dx:dx + size]
            for flip in (False, True):
                if torch.equal(crop.flip(-1) if flip else crop, out):
                    found.add((dy, dx, flip))
    return found


def test_each_image_is_one_padded_crop_possibly_flipped_with_the_fill_value():
    x, fill = _ramp(), torch.tensor([-1.0, -2.0, -3.0])
    out = crop_flip(x, fill, seed=0)
    pad = 16 // 8
    assert out.shape == x.shape
    for i in range(x.shape[0]):
        padded = fill.view(3, 1, 1).repeat(1, 16 + 2 * pad, 16 + 2 * pad)
        padded[:, pad:pad + 16, pad:pad + 16] = x[i]
        assert len(_which_crop(padded, out[i], 16)) == 1
    # the border that came from padding holds exactly the fill value of its channel
    border = out[(out <= 0)]
    assert set(border.unique().tolist()) <= {-1.0, -2.0, -3.0}


def test_offsets_and_flips_cover_the_public_codes_range_and_depend_only_on_the_seed():
    x, fill = _ramp(64, 32), torch.zeros(3)
    a, b, c = crop_flip(x, fill, 7), crop_flip(x, fill, 7), crop_flip(x, fill, 8)
    assert torch.equal(a, b) and not torch.equal(a, c)
    seen = set()
    for i in range(64):
        padded = torch.zeros(3, 40, 40)
        padded[:, 4:36, 4:36] = x[i]
        (dy, dx, flip), = _which_crop(padded, a[i], 32)
        seen.add(flip)
        assert 0 <= dy <= 8 and 0 <= dx <= 8  # padding 4 at 32x32, as RandomCrop(32, padding=4)
    assert seen == {False, True}
    with pytest.raises(ValueError, match="one value per channel"):
        crop_flip(x, torch.zeros(2), 0)


def test_black_pixel_is_zero_in_pixel_space_after_normalisation():
    assert MEAN_STD["cifar10"] == ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616))
    assert torch.allclose(black_pixel("cifar10"), torch.tensor([-1.98947, -1.98029, -1.70680]), atol=1e-5)  # -mean/std by hand
    assert torch.allclose(black_pixel("imagenet-32"), black_pixel("cifar100"))  # the CIFAR-100 surrogate's constants
    assert black_pixel("class_scene") is None


def _task(augment: str | None):
    doc = task_to_doc(short("gennas_single", 2))
    if augment is not None:
        doc["batch"] = {"augment": augment}
    return parse_task(doc)


def test_a_crop_flip_task_trains_on_the_augmented_batch_and_has_its_own_hash():
    plain, none, aug = _task(None), _task("none"), _task("crop_flip")
    assert none.hash == plain.hash and aug.hash != plain.hash and aug.batch_augment == "crop_flip"
    assert parse_task(task_to_doc(aug)) == aug
    dataset = Dataset("cifar10", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (Metric("acc", "higher"),), "acc")
    batch = Batch(images(16), torch.zeros(16, dtype=torch.long), "test", False, 0)
    ctx = ProxyContext(None, "a", dataset, small_net(), [batch], 3, torch.device("cpu"))
    augmented = crop_flip(images(16), black_pixel("cifar10"), 3)
    assert torch.equal(task_images(aug, ctx), augmented) and torch.equal(task_images(plain, ctx), images(16))
    assert score_task(aug, ctx) == regression_score(small_net(), augmented, aug, 3)
    other = Dataset("class_scene", (3, 32, 32), 10, TaskKind.CLASSIFICATION, (Metric("acc", "higher"),), "acc")
    record = evaluate(task_spec(aug, "aug"), ProxyContext(None, "a", other, small_net(), [batch], 0, torch.device("cpu")))
    assert record.status == STATUS_UNSUPPORTED and "crop_flip" in record.message


def test_batch_field_errors_are_one_line():
    doc = task_to_doc(short("gennas_single", 2))
    for batch, message in (({"augment": "mixup"}, "expected one of none, crop_flip"),
                           ({}, "missing field 'augment'"),
                           ({"augment": "none", "size": 3}, "unknown field 'size'")):
        doc["batch"] = batch
        with pytest.raises(TaskError, match=message) as info:
            parse_task(doc)
        assert "\n" not in str(info.value)

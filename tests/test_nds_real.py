"""Our NDS networks against the official params and FLOPs of the real release (shared data)."""

from __future__ import annotations

import pytest

from nasproxy_bench.adapters.nds.benchmark import SPACE_CLASSES
from nasproxy_bench.registry import get_benchmark

PRESENT = [name for name, cls in SPACE_CLASSES.items() if "imagenet" in cls.datasets or cls.reruns]


@pytest.mark.parametrize(("name", "stride"), [("nds_resnext-a", 130), ("nds_darts", 121), ("nds_vanilla_reruns", 200)])
def test_verify_on_a_stride_of_real_entries(shared, name, stride):
    result = get_benchmark(name)(shared).verify(stride=stride)
    assert result.checked >= 1 and result.mismatches == []


def test_real_space_sizes_and_diverged_counts(shared):
    darts = get_benchmark("nds_darts_lr-wd")(shared)
    assert len(darts.archs()) == 515 and darts.duplicates("imagenet") == {}
    assert len(darts.exclusions("imagenet")) == int(darts.table("imagenet")["test_acc"].isna().sum()) > 0
    reruns = get_benchmark("nds_resnet_reruns")(shared)
    floor = reruns.noise_floor()
    assert floor["test_acc_count"].tolist() == [100, 100]
    assert (floor["test_acc_std"] > 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", PRESENT)
def test_full_verify_every_official_entry(shared, name):
    result = get_benchmark(name)(shared).verify()
    assert result.mismatches == [], result.mismatches[:3]

"""The fast same-padding average pool equals torch's nn.AvgPool2d bit for bit, in values and gradients."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasproxy_bench.pooling import SamePadAvgPool2d, valid_counts, window_sum


def test_window_sum_and_counts_by_hand():
    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # 1 2 3 / 4 5 6 / 7 8 9
    assert window_sum(x, 3)[0, 0].tolist() == [[12.0, 21.0, 16.0], [27.0, 45.0, 33.0], [24.0, 39.0, 28.0]]
    assert valid_counts(3, 3, 3, x)[0, 0].tolist() == [[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]
    assert SamePadAvgPool2d(3)(x)[0, 0, 0, 0].item() == 3.0  # (1 + 2 + 4 + 5) / 4


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("shape", "kernel"), [((16, 16, 32, 32), 3), ((5, 8, 7, 9), 3), ((2, 3, 1, 1), 3),
                                                ((2, 4, 2, 2), 3), ((3, 6, 11, 8), 5)])
def test_values_gradients_and_second_order_gradients_equal_torch_bit_for_bit(shape, kernel, dtype):
    gen = torch.Generator().manual_seed(sum(shape) + kernel)
    x = (torch.randn(shape, generator=gen, dtype=dtype) * 3).requires_grad_()
    v = torch.randn(shape, generator=gen, dtype=dtype)
    outs = []
    for pool in (nn.AvgPool2d(kernel, 1, kernel // 2, count_include_pad=False), SamePadAvgPool2d(kernel)):
        y = pool(x)
        (g,) = torch.autograd.grad((y * v).square().sum(), x, create_graph=True)  # grad depends on x through y
        (h,) = torch.autograd.grad((g * v).sum(), x)  # Hessian-vector product, as grasp takes it
        outs.append((y.detach(), g.detach(), h))
    for ours, theirs in zip(outs[1], outs[0], strict=True):
        assert torch.equal(ours, theirs)


def test_non_contiguous_input_and_other_configurations_fall_back_or_match():
    x = torch.randn(4, 8, 10, 12, generator=torch.Generator().manual_seed(1)).transpose(2, 3)
    assert torch.equal(SamePadAvgPool2d(3)(x), nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x))
    strided = SamePadAvgPool2d(3, stride=2)
    assert not strided.fast and isinstance(strided, nn.AvgPool2d)
    assert torch.equal(strided(x), nn.AvgPool2d(3, 2, 1, count_include_pad=False)(x))


def test_per_sample_gradients_under_vmap_equal_torch():
    # gradsign and ntk_cond_ps take per-sample gradients with torch.func (vmap over grad)
    x = torch.randn(6, 4, 8, 8, generator=torch.Generator().manual_seed(2))
    weight = torch.randn(4, 4, 3, 3, generator=torch.Generator().manual_seed(3))

    def per_sample(pool):
        def loss(w, xi):
            return pool(torch.nn.functional.conv2d(xi[None], w, padding=1)).square().sum()
        return torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))(weight, x)

    assert torch.equal(per_sample(SamePadAvgPool2d(3)), per_sample(nn.AvgPool2d(3, 1, 1, count_include_pad=False)))

"""The task API: losses on hand-computed cases, and proxies reading a task's loss, output and encoder."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nasproxy_bench.benchmark import Dataset, Direction, Metric
from nasproxy_bench.inputs import Batch
from nasproxy_bench.networks import EncoderDecoder, StagedNetwork, encode
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_proxy
from nasproxy_bench.runner import evaluate
from nasproxy_bench.store import STATUS_OK, STATUS_UNSUPPORTED
from nasproxy_bench.tasks import (
    Classification,
    ImageToImage,
    LanguageModel,
    PixelClassification,
    Regression,
    SoftLabelClassification,
    TaskKind,
)
from tests.test_proxies import NoCells


def test_soft_label_cross_entropy_by_hand():
    logits = torch.tensor([[0.0, math.log(3.0)]])  # softmax = (1/4, 3/4)
    target = torch.tensor([[0.5, 0.5]])
    expected = -(0.5 * math.log(0.25 + 1e-5) + 0.5 * math.log(0.75 + 1e-5))
    assert SoftLabelClassification().loss(logits, target).item() == pytest.approx(expected, rel=1e-6)
    assert SoftLabelClassification().class_labels(torch.tensor([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]


def test_pixel_cross_entropy_by_hand():
    logits = torch.zeros(1, 2, 1, 2)
    logits[0, 1, 0, 0] = math.log(3.0)  # pixel 0: p(class 1) = 3/4; pixel 1: uniform
    target = torch.tensor([[[1, 0]]])
    expected = (-math.log(0.75) - math.log(0.5)) / 2
    assert PixelClassification().loss(logits, target).item() == pytest.approx(expected, rel=1e-6)
    assert PixelClassification().class_labels(target) is None


def test_regression_and_image_losses_by_hand():
    out, target = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 4.0]])
    assert Regression().loss(out, target).item() == pytest.approx((1 + 4) / 2)
    assert ImageToImage().loss(out, target).item() == pytest.approx((1 + 2) / 2)


def test_language_model_loss_by_hand_and_tuple_output():
    logits = torch.zeros(1, 2, 4)  # uniform over 4 tokens at both steps
    raw = (logits, "hidden state")
    task = LanguageModel()
    assert task.loss(task.output(raw), torch.tensor([[1, 3]])).item() == pytest.approx(math.log(4))
    assert not task.differentiable_input


def test_classification_rejects_dense_logits():
    with pytest.raises(ValueError, match="logits"):
        Classification().loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, dtype=torch.long))


class TinyEncoder(StagedNetwork):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x))

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self(x)]


def dense_net() -> EncoderDecoder:
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Conv2d(4, 8, 1), nn.ReLU(), nn.Conv2d(8, 3, 1))
    return EncoderDecoder(TinyEncoder(), decoder)


def dense_context(model: nn.Module, io, y: torch.Tensor, kind: TaskKind) -> ProxyContext:
    torch.manual_seed(1)
    x = torch.randn(6, 3, 5, 5)
    ds = Dataset("toy", (3, 5, 5), 3, kind, (Metric("m", Direction.HIGHER),), "m", io)
    return ProxyContext(NoCells("."), "a", ds, model, [Batch(x, y, "toy", True, 0)], 0, torch.device("cpu"), frozenset({"grasp"}))


def test_gradient_proxies_use_the_task_loss():
    net = dense_net()
    target = torch.randn(6, 3, 5, 5)
    ctx = dense_context(net, ImageToImage(), target, TaskKind.DENSE)
    record = evaluate(get_proxy("grad_norm"), ctx)
    assert record.status == STATUS_OK
    model = net
    model.zero_grad()
    nn.functional.l1_loss(model(ctx.batch.x), target).backward()
    expected = sum(float(m.weight.grad.norm()) for m in model.modules() if isinstance(m, nn.Conv2d))
    assert record.score == pytest.approx(expected, rel=1e-5)
    for name in ("snip", "fisher", "grasp", "synflow", "jacob_cov", "gradsign", "ntk_cond_ps", "ntk_cond_full", "zen", "naswot"):
        assert evaluate(get_proxy(name), ctx).status == STATUS_OK, name


class CutEncoder(TinyEncoder):
    """Runs its conv but outputs zeros, as a TransNAS cell of zeroize paths does: the loss never reaches the conv."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.conv(x)
        return torch.zeros(x.shape[0], 4, *x.shape[2:])


def test_grasp_scores_a_network_whose_first_layer_the_loss_does_not_reach():
    """The first conv/linear layer gets a zero gradient without a graph; GraSP is the sum over the others.

    (It used to read that layer's gradient as "no graph was kept" and record an error.)"""
    torch.manual_seed(0)
    net = EncoderDecoder(CutEncoder(), nn.Sequential(nn.Conv2d(4, 8, 1), nn.ReLU(), nn.Conv2d(8, 3, 1)))
    target = torch.randn(6, 3, 5, 5)
    ctx = dense_context(net, Regression(), target, TaskKind.REGRESSION)
    record = evaluate(get_proxy("grasp"), ctx)
    assert record.status == STATUS_OK, record.message
    weights = [m.weight for m in net.decoder.modules() if isinstance(m, nn.Conv2d)]
    grads = torch.autograd.grad(nn.functional.mse_loss(net(ctx.batch.x), target), weights, create_graph=True)
    hessian_grad = torch.autograd.grad(sum((g * g.detach()).sum() for g in grads), weights)
    expected = -sum(float((w.detach() * h).sum()) for w, h in zip(weights, hessian_grad, strict=True))
    assert expected != 0.0
    assert record.score == pytest.approx(expected, rel=1e-5)


def test_epe_nas_is_unsupported_without_classes():
    ctx = dense_context(dense_net(), ImageToImage(), torch.randn(6, 3, 5, 5), TaskKind.DENSE)
    record = evaluate(get_proxy("epe_nas"), ctx)
    assert record.status == STATUS_UNSUPPORTED and "classes" in record.message


def test_a_dense_task_without_a_declared_loss_is_unsupported():
    ctx = dense_context(dense_net(), None, torch.randn(6, 3, 5, 5), TaskKind.DENSE)
    record = evaluate(get_proxy("snip"), ctx)
    assert record.status == STATUS_UNSUPPORTED and "declares no task" in record.message


def test_activation_proxies_read_the_encoder_only():
    net = dense_net()
    ctx = dense_context(net, ImageToImage(), torch.randn(6, 3, 5, 5), TaskKind.DENSE)
    assert torch.equal(encode(net, ctx.batch.x), net.encoder(ctx.batch.x))
    # NASWOT of the task network equals NASWOT of its encoder alone: decoder ReLUs are not read
    enc_ctx = dense_context(net.encoder, Regression(), torch.randn(6, 4, 5, 5), TaskKind.REGRESSION)
    assert evaluate(get_proxy("naswot"), ctx).score == pytest.approx(evaluate(get_proxy("naswot"), enc_ctx).score)


def test_jacobian_of_a_network_that_ignores_its_input_is_nan_not_an_error():
    class Constant(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias = nn.Parameter(torch.ones(3))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.new_zeros((len(x), 3)) + self.bias

    ctx = dense_context(Constant(), Regression(), torch.randn(6, 3), TaskKind.REGRESSION)
    record = evaluate(get_proxy("jacob_cov"), ctx)
    assert record.status == STATUS_OK and math.isnan(record.score)

"""Passes over the network that several proxies share, memoised per architecture.

Each pass runs on its own copy of the network (a forward pass in train mode updates
BatchNorm running statistics, which would otherwise change the caller's model).

Every pass reads the network through the dataset's task (``ctx.task``, see
``nasproxy_bench.tasks``): ``ctx.task.output`` turns the raw output into the tensor that
``ctx.task.loss`` scores, so the same proxy works on classification, dense prediction,
regression and language modelling. Activation passes run the encoder only
(``nasproxy_bench.networks.encode``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.networks import EmbeddedInput, encode, encoder_module
from nasproxy_bench.proxies.base import ProxyContext

WEIGHTED = (nn.Conv2d, nn.Linear, nn.Conv1d)


def weighted_layers(model: nn.Module) -> list[nn.Module]:
    """Conv and linear layers: the layers whose weights the gradient proxies score."""
    return [m for m in model.modules() if isinstance(m, WEIGHTED)]


def task_loss(ctx: ProxyContext, raw_output: object, target: torch.Tensor) -> torch.Tensor:
    """The task's loss of the network's raw output; a shape the task cannot score is unsupported."""
    try:
        return ctx.task.loss(ctx.task.output(raw_output), target)
    except ValueError as exc:
        raise UnsupportedNetwork(str(exc)) from None


def task_output(ctx: ProxyContext, raw_output: object) -> torch.Tensor:
    """The tensor the task reads from the network's raw output (logits, dense map, token logits)."""
    return ctx.task.output(raw_output)


@dataclass
class LossGradients:
    """One forward/backward of the task loss on the fixed batch (cross-entropy for classification).

    ``weights`` and ``grads`` are aligned lists over conv/linear layers; ``activation_terms``
    are per layer call ``(sum over positions of z * dL/dz)`` of shape (batch, channels), the
    quantity Fisher needs, and ``activation_fan_in`` the fan-in of the layer each came from
    (weights per output channel: in_channels/groups x kernel area, or in_features). With
    ``graph`` the gradients keep their graph (for GraSP); a layer the
    loss does not reach (cut off by a zeroize path) has a zero gradient without one either way.
    """

    weights: list[torch.Tensor]
    grads: list[torch.Tensor]
    activation_terms: list[torch.Tensor]
    activation_fan_in: list[int]
    loss: torch.Tensor
    graph: bool = False


def _loss_gradients(ctx: ProxyContext, batch_index: int, graph: bool) -> LossGradients:
    model = ctx.fresh_model()
    layers = weighted_layers(model)
    if not layers:
        raise UnsupportedNetwork("network has no conv or linear layers")
    outputs: list[torch.Tensor] = []
    fan_in: list[int] = []

    def keep_output(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        # A tensor hook receives dL/dz for the value z had here, even if a later in-place op
        # (e.g. ReLU(inplace=True)) overwrites it, so z is cloned for the product.
        outputs.append(output)
        fan_in.append(module.weight[0].numel())

    handles = [layer.register_forward_hook(keep_output) for layer in layers]
    batch = ctx.batches[batch_index]
    try:
        raw = model(batch.x)
    finally:
        for h in handles:
            h.remove()
    values = [o.detach().clone() for o in outputs]
    weights = [layer.weight for layer in layers]
    loss = task_loss(ctx, raw, batch.y)
    grads = torch.autograd.grad(loss, weights + outputs, create_graph=graph, allow_unused=True)
    weight_grads = [g if g is not None else torch.zeros_like(w) for g, w in zip(grads[: len(weights)], weights, strict=True)]
    terms = []
    for value, grad in zip(values, grads[len(weights):], strict=True):
        if grad is None:
            grad = torch.zeros_like(value)
        prod = (value * grad.detach())
        terms.append(prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod)
    return LossGradients(weights, weight_grads, terms, fan_in, loss, graph)


def loss_gradients(ctx: ProxyContext, batch_index: int = 0) -> LossGradients:
    """Task-loss gradients on batch ``batch_index``; keeps the graph when GraSP will need it."""
    graph = batch_index == 0 and "grasp" in ctx.requested
    return ctx.shared(f"loss_gradients:{batch_index}", lambda: _loss_gradients(ctx, batch_index, graph))


def input_jacobian(ctx: ProxyContext) -> torch.Tensor:
    """Per-sample gradient of the summed outputs w.r.t. the input, flattened: (batch, features).

    Where the task's inputs are token ids (``differentiable_input`` False), the gradient is taken
    w.r.t. the output of the network's embedding instead (``networks.EmbeddedInput``); a network
    without that hook makes the proxy unsupported. Zero where the output does not depend on the
    input (Jacobian proxies then give NaN: lost coverage).
    """
    through_embedding = not ctx.task.differentiable_input
    if through_embedding and not isinstance(ctx.model, EmbeddedInput):
        raise UnsupportedNetwork(f"{ctx.dataset.name} inputs are not differentiable (token ids) and the network has no embedding hook")

    def compute() -> torch.Tensor:
        model = ctx.fresh_model()
        if through_embedding:
            x = model.embed(ctx.batch.x).detach().requires_grad_(True)
            raw = model.forward_embedded(x)
        else:
            x = ctx.batch.x.clone().requires_grad_(True)
            raw = model(x)
        out = task_output(ctx, raw)
        if not out.requires_grad:  # the output ignores the input (e.g. a cell of zeroize edges only)
            return torch.zeros_like(x).reshape(len(x), -1)
        (grad,) = torch.autograd.grad(out.sum(), x, allow_unused=True)
        if grad is None:
            return torch.zeros_like(x).reshape(len(x), -1)
        return grad.reshape(len(x), -1).detach()

    return ctx.shared("input_jacobian", compute)


def _forward_with_relu_hook(model: nn.Module, x: torch.Tensor, keep: Callable[[torch.Tensor], None]) -> None:
    """One no-grad pass of the encoder calling ``keep(z)`` with the input z of every ReLU it runs.

    Pre-hooks see z before an in-place ReLU overwrites it. For a task network
    (``EncoderDecoder``) only the encoder runs, so decoder ReLUs do not count.
    """
    relus = [m for m in encoder_module(model).modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise UnsupportedNetwork("network has no ReLU activations")
    handles = [m.register_forward_pre_hook(lambda _m, inputs: keep(inputs[0])) for m in relus]
    try:
        with torch.no_grad():
            encode(model, x)
    finally:
        for h in handles:
            h.remove()


def relu_codes(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Binary activation pattern (input > 0 at every ReLU) per sample: (batch, units) bool."""
    codes: list[torch.Tensor] = []
    _forward_with_relu_hook(model, x, lambda z: codes.append((z > 0).reshape(len(z), -1)))
    return torch.cat(codes, dim=1)


def hamming_kernel(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """K_ij = number of ReLU units where samples i and j agree (N_A − Hamming distance), float64.

    Accumulated layer by layer (exact: each layer's count fits float32's integer range), so
    the full code matrix is never held in memory.
    """
    kernel = torch.zeros((len(x), len(x)), dtype=torch.float64, device=x.device)

    def add(z: torch.Tensor) -> None:
        code = (z > 0).reshape(len(z), -1).float()
        kernel.add_((code @ code.T + (1 - code) @ (1 - code).T).double())

    _forward_with_relu_hook(model, x, add)
    return kernel

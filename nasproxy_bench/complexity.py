"""Analytic structural cost of a network: parameters and multiply-accumulates (FLOPs).

FLOPs follow the convention of NAS-Bench-201 and most zero-cost NAS papers: one
multiply-accumulate of a convolution or linear layer counts as one FLOP (plus one per output
for a bias); pooling, normalisation and activations are not counted. Shapes come from one
forward pass of a single example, so any module structure is handled.
"""

from __future__ import annotations

import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of trainable parameters (every registered parameter, counted once)."""
    return sum(p.numel() for p in model.parameters())


def _layer_flops(module: nn.Module, output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        per_output = (module.in_channels // module.groups) * module.kernel_size[0] * module.kernel_size[1]
        flops = per_output * output[0].numel()
    elif isinstance(module, nn.Linear):
        flops = module.in_features * module.out_features * (output[0].numel() // module.out_features)
    else:
        return 0
    if module.bias is not None:
        flops += output[0].numel()
    return flops


def probe_forward(model: nn.Module, input_shape: tuple[int, ...], hook, modules: list[nn.Module]) -> None:
    """One eval-mode forward pass of a single zero example with ``hook`` on ``modules``.

    The model's train/eval mode is restored and every hook removed, whatever happens.
    """
    handles = [m.register_forward_hook(hook) for m in modules]
    was_training = model.training
    try:
        model.eval()
        param = next(model.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        model(torch.zeros((1, *input_shape), device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)


@torch.no_grad()
def count_flops(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of conv and linear layers for one example of ``input_shape``."""
    total = 0

    def hook(module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        total += _layer_flops(module, output)

    probe_forward(model, input_shape, hook, [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))])
    return total

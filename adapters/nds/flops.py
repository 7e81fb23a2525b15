"""FLOPs as the official NDS tables count them (two conventions, found from the official counts).

The NDS release counts more than multiply-accumulates, and its cell and AnyNet tables were
counted differently. Both count a convolution as ``weight.numel() * H_out * W_out`` and a
linear layer as ``in * out + out``. Beyond that:

- cell networks (Amoeba, DARTS*, ENAS, NASNet, PNAS): the output size of a convolution is taken
  from its input size by the undilated formula ``(H + 2p - k) // s + 1`` (so a dilated 3x3 conv
  with padding 2 is charged for an (H+2)x(W+2) output); every ReLU output element counts 1; a
  max/avg pool counts ``k*k`` per output element (the global average pool: one per input
  element); BatchNorm counts nothing.
- AnyNet networks (ResNet, ResNeXt, Vanilla): every BatchNorm output element counts 5; ReLU,
  pooling and residual additions count nothing.

``verify nds_*`` checks both against every official entry. Shapes come from one forward pass,
which works on the meta device (no memory, no arithmetic).
"""

from __future__ import annotations

import torch
from torch import nn

from nasproxy_bench.complexity import probe_forward

CELL = "cell"
ANYNET = "anynet"


def _conv_flops(module: nn.Conv2d, inputs: tuple, output: torch.Tensor, undilated: bool) -> int:
    if undilated:
        h, w = inputs[0].shape[-2:]
        pad = module.padding if isinstance(module.padding, tuple) else (module.padding, module.padding)
        h_out = (h + 2 * pad[0] - module.kernel_size[0]) // module.stride[0] + 1
        w_out = (w + 2 * pad[1] - module.kernel_size[1]) // module.stride[1] + 1
    else:
        h_out, w_out = output.shape[-2:]
    return module.weight.numel() * int(h_out) * int(w_out)


def _pool_flops(module: nn.Module, inputs: tuple, output: torch.Tensor) -> int:
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return inputs[0][0].numel()
    kernel = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
    return kernel * kernel * output[0].numel()


@torch.no_grad()
def nds_flops(model: nn.Module, input_shape: tuple[int, ...], convention: str) -> int:
    """FLOPs of one example of ``input_shape`` under the official NDS ``convention``."""
    if convention not in (CELL, ANYNET):
        raise ValueError(f"unknown NDS FLOP convention {convention!r}")
    total = 0
    cell = convention == CELL

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            total += _conv_flops(module, inputs, output, undilated=cell)
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features + module.out_features
        elif isinstance(module, nn.BatchNorm2d) and not cell:
            total += 5 * output[0].numel()
        elif isinstance(module, nn.ReLU) and cell:
            total += output[0].numel()
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)) and cell:
            total += _pool_flops(module, inputs, output)

    probe_forward(model, input_shape, hook, list(model.modules()))
    return total

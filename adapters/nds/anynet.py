"""The NDS AnyNet networks (ResNet, ResNeXt-A/B, Vanilla spaces).

Entry 0 of ``ds``/``ws``/``ss`` is the stem; its stride picks its type: 1 = one 3x3 conv
(CIFAR), 4 = 7x7 stride-2 conv and 3x3 stride-2 max-pool (ResNet/Vanilla ImageNet stem),
8 = the three stride-2 3x3 convs (w/2, w, w) of the NDS cell networks (ResNeXt-A/B spaces;
the only stem that reproduces their official parameter counts: 56,480 for w = 64).
Stages i >= 1 stack ``ds[i]`` blocks of width ``ws[i]``; the first block strides ``ss[i]``
and takes a 1x1-conv-BN projection shortcut when its shape changes. Blocks:

- ``res_basic_block``: x + [3x3 conv-BN-ReLU, 3x3 conv-BN], then ReLU;
- ``res_bottleneck_block``: x + [1x1, 3x3 with ``num_gs`` groups (stride here), 1x1], then ReLU;
  the inner width is round(w * bot_mul);
- ``double_plain_block`` (Vanilla): [3x3 conv-BN-ReLU] x 2, no shortcut.

Head: global average pool and a linear classifier with bias.
"""

from __future__ import annotations

import torch
from torch import nn

from nasproxy_bench.adapters.nds.arch import AnyNetArch
from nasproxy_bench.networks import StagedNetwork


def conv_bn(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=False))
    return layers


class Residual(nn.Module):
    def __init__(self, body: nn.Module, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = body
        needs_proj = c_in != c_out or stride != 1
        self.proj = nn.Sequential(*conv_bn(c_in, c_out, 1, stride, relu=False)) if needs_proj else None
        self.relu = nn.ReLU(inplace=False)

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """shortcut + body, before the block's final ReLU (where GenNAS's heads read a stage)."""
        shortcut = x if self.proj is None else self.proj(x)
        return shortcut + self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.pre_activation(x))


def make_block(block_type: str, c_in: int, c_out: int, stride: int, bot_mul: float, groups: int) -> nn.Module:
    if block_type == "res_basic_block":
        body = nn.Sequential(*conv_bn(c_in, c_out, 3, stride), *conv_bn(c_out, c_out, 3, relu=False))
        return Residual(body, c_in, c_out, stride)
    if block_type == "res_bottleneck_block":
        w_b = int(round(c_out * bot_mul))
        body = nn.Sequential(
            *conv_bn(c_in, w_b, 1), *conv_bn(w_b, w_b, 3, stride, groups), *conv_bn(w_b, c_out, 1, relu=False)
        )
        return Residual(body, c_in, c_out, stride)
    return nn.Sequential(*conv_bn(c_in, c_out, 3, stride), *conv_bn(c_out, c_out, 3))


def make_stem(width: int, stride: int) -> nn.Sequential:
    if stride == 1:
        return nn.Sequential(*conv_bn(3, width, 3))
    if stride == 2:
        return nn.Sequential(*conv_bn(3, width, 3, 2))
    if stride == 4:
        return nn.Sequential(*conv_bn(3, width, 7, 2), nn.MaxPool2d(3, stride=2, padding=1))
    # stride 8: the stem of the NDS cell networks on ImageNet (three stride-2 3x3 convolutions)
    return nn.Sequential(
        *conv_bn(3, width // 2, 3, 2), *conv_bn(width // 2, width, 3, 2, relu=False),
        nn.ReLU(inplace=False), *conv_bn(width, width, 3, 2, relu=False),
    )


class AnyNetwork(StagedNetwork):
    def __init__(self, arch: AnyNetArch, num_classes: int) -> None:
        super().__init__()
        self.stem = make_stem(arch.ws[0], arch.ss[0])
        stages = []
        c_in = arch.ws[0]
        bottleneck = arch.block_type == "res_bottleneck_block"
        for i in range(1, len(arch.ds)):
            bot_mul, groups = (arch.bot_muls[i], arch.num_gs[i]) if bottleneck else (1.0, 1)
            blocks = [
                make_block(arch.block_type, c_in if b == 0 else arch.ws[i], arch.ws[i], arch.ss[i] if b == 0 else 1, bot_mul, groups)
                for b in range(arch.ds[i])
            ]
            stages.append(nn.Sequential(*blocks))
            c_in = arch.ws[i]
        self.stages = nn.ModuleList(stages)
        # A stage that does not stride continues the resolution of the one before it.
        self.resolution_ends = tuple(
            i for i in range(len(stages)) if i == len(stages) - 1 or arch.ss[i + 2] != 1
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_in, num_classes)

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Output of the last stage at each resolution (stride-1 stages merge into the previous one).

        ResNeXt-A/B (ImageNet): strides 8, 16, 32; ResNet/Vanilla lr-wd (ImageNet): 4, 8, 16, 32;
        CIFAR reruns: 1, 2, 4. GenNAS takes the last three.
        """
        outs = []
        x = self.stem(x)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.resolution_ends:
                outs.append(x)
        return outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.classifier(self.pool(x).flatten(1))

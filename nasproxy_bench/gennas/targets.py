"""Turn a task into its per-stage target tensors F*_i (b x c_i x 8 x 8) for one image batch."""

from __future__ import annotations

import torch

from nasproxy_bench.gennas import signals
from nasproxy_bench.gennas.task import N_STAGES, Base, Task


def base_maps(base: Base, images: torch.Tensor, gen: torch.Generator, size: int = signals.SIZE) -> torch.Tensor:
    """One base for the whole batch: b x channels x size x size, times its level.

    Local bases draw an independent map per image and channel; global ones draw one map per
    channel and repeat it over the batch. Resize is always per image (it is the image).
    """
    batch = images.shape[0]
    if base.kind == "resize":
        return signals.resize(images, base.channels, gen, size=size) * base.level
    if base.kind == "zero":
        return torch.zeros(batch, base.channels, size, size)
    count = base.channels * (batch if base.local else 1)
    if base.kind == "sin1d":
        maps = signals.sin1d(count, base.freqs, gen, axis=base.axis, phase=base.phase, size=size)
    elif base.kind == "sin2d":
        maps = signals.sin2d(count, base.freqs, gen, phase=base.phase, size=size)
    elif base.kind == "dot":
        maps = signals.dot(count, base.fraction, gen, size=size)
    elif base.kind == "gdot":
        maps = signals.gdot(count, base.fraction, gen, size=size)
    else:
        raise ValueError(f"unknown signal base {base.kind!r}")
    maps = maps.view(-1, base.channels, size, size)
    if not base.local:
        maps = maps.expand(batch, -1, -1, -1).contiguous()
    return maps * base.level


def stage_targets(task: Task, images: torch.Tensor, gen: torch.Generator) -> list[torch.Tensor | None]:
    """F*_1..F*_3: each the sum of its tensors, each tensor its bases stacked along channels."""
    out: list[torch.Tensor | None] = []
    for stage in range(N_STAGES):
        tensors = [torch.cat([base_maps(b, images, gen) for b in tensor], dim=1) for tensor in task.stages[stage]]
        out.append(torch.stack(tensors).sum(dim=0) if tensors else None)
    return out

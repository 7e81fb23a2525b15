"""MeCo (Jiang et al., NeurIPS 2023): minimum eigenvalue of the channel correlation of feature maps.

Settings of the authors' NB201 script (HamsterMimi/MeCo, ``correlation/NAS_Bench_201.py``,
``get_score``): ONE input image, one forward pass in train mode, a forward hook on every
module of the network (containers included, so a container repeats its last child's map).
For each hooked output f (of the single sample: C x H x W), P is the C x C Pearson
correlation matrix of the channels over the H·W positions, NaN/inf entries (constant
channels) set to 0; the module contributes λ_min(P). MeCo = Σ over hooked outputs.
MeCo_opt (``--measure meco_opt``) draws 8 random channels per map and scales λ_min of their
8 x 8 correlation by C/8. A non-spatial output (logits) gives a C x 1 map, whose correlation
is all-NaN, so 0: it contributes nothing, as in the reference.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.networks import encode, encoder_module
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec

MECO_OPT_CHANNELS = 8


def min_correlation_eigenvalue(feature: torch.Tensor) -> float:
    """λ_min of the Pearson correlation of the rows of ``feature`` (rows x observations); NaN entries -> 0."""
    with warnings.catch_warnings():  # a one-observation map (logits) is expected: its correlation is NaN, hence 0
        warnings.simplefilter("ignore", UserWarning)
        corr = torch.corrcoef(feature.double())
    if corr.dim() == 0:  # a single row: corrcoef gives the scalar 1 (or NaN for a constant row)
        corr = corr.reshape(1, 1)
    corr = torch.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)
    # The eigen-solver on the CPU: MeCo solves one small matrix per module, and on an H200 a TransNAS
    # cell took 8-11 s with the GPU solver (16 processes sharing the GPU) against 1.0 s with this one
    # (GPU otherwise idle): not a controlled comparison.
    return float(torch.linalg.eigvalsh(corr.cpu())[0])


def _hooked_maps(ctx: ProxyContext) -> list[torch.Tensor]:
    """The first sample's output of every module of the (encoder) network, as (C, rest) matrices."""
    model = ctx.fresh_model()
    maps: list[torch.Tensor] = []

    def keep(_module: nn.Module, _inputs: tuple, output: object) -> None:
        first = output[0] if isinstance(output, (tuple, list)) else output
        if isinstance(first, torch.Tensor) and first.dim() >= 1 and first.is_floating_point():
            sample = first[0].detach()
            maps.append(sample.reshape(sample.shape[0], -1) if sample.dim() >= 1 else sample.reshape(1, 1))

    body = encoder_module(model)
    handles = [m.register_forward_hook(keep) for m in body.modules()]
    try:
        with torch.no_grad():
            encode(model, ctx.batch.x[:1])
    finally:
        for h in handles:
            h.remove()
    if not maps:
        raise UnsupportedNetwork("no module produced a floating-point feature map")
    return maps


def meco(ctx: ProxyContext) -> float:
    """Σ over module outputs of λ_min(channel Pearson correlation), one input image."""
    if not ctx.task.differentiable_input:
        raise UnsupportedNetwork(f"{ctx.dataset.name} inputs are token ids; MeCo reads image feature maps")
    maps = ctx.shared("meco_maps", lambda: _hooked_maps(ctx))
    return sum(min_correlation_eigenvalue(f) for f in maps)


def meco_opt(ctx: ProxyContext) -> float:
    """MeCo_opt: per map, λ_min of the correlation of 8 random channels, times C/8 (channels drawn from the run seed)."""
    if not ctx.task.differentiable_input:
        raise UnsupportedNetwork(f"{ctx.dataset.name} inputs are token ids; MeCo reads image feature maps")
    maps = ctx.shared("meco_maps", lambda: _hooked_maps(ctx))
    gen = torch.Generator().manual_seed(ctx.seed)
    total = 0.0
    for f in maps:
        channels = f.shape[0]
        if channels < MECO_OPT_CHANNELS:
            raise UnsupportedNetwork(f"meco_opt samples {MECO_OPT_CHANNELS} channels; a map has only {channels}")
        pick = torch.randperm(channels, generator=gen)[:MECO_OPT_CHANNELS].to(f.device)
        total += min_correlation_eigenvalue(f[pick]) * channels / MECO_OPT_CHANNELS
    return total


PROXIES = (
    ProxySpec("meco", meco, "activation", "1", tasks=ALL_TASKS,
              description="Σ_modules λ_min(channel Pearson correlation), one image (MeCo)"),
    ProxySpec("meco_opt", meco_opt, "activation", "1", tasks=ALL_TASKS,
              description="MeCo on 8 random channels per map, scaled by C/8 (MeCo_opt)"),
)

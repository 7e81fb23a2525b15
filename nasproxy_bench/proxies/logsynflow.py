"""LogSynflow (FreeREA, Cavagnero et al., WACV 2023): SynFlow with log-compressed gradients.

FreeREA's ``compute_synflow_per_weight(remap='log')`` (NiccoloCavagnero/FreeREA,
``metrics/synflow.py``): BatchNorm replaced by the identity, every parameter made absolute,
float64, one all-ones input; R = sum of the outputs; the score of a conv/linear weight θ is
|θ · log(∂R/∂θ + 1)|, summed over all of them. The logarithm keeps the huge gradients of deep
paths from dominating the sum, which otherwise ranks networks mostly by depth x width.
"""

from __future__ import annotations

import torch
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec
from nasproxy_bench.proxies.passes import task_output, weighted_layers


def _bypass_batchnorm(model: nn.Module) -> nn.Module:
    """Replace every BatchNorm by the identity, in place (FreeREA's ``_no_op`` forward)."""
    for name, child in model.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _bypass_batchnorm(child)
    return model


def logsynflow(ctx: ProxyContext) -> float:
    """Σ_θ |θ · log(1 + ∂R/∂θ)| with |θ| weights, BN off, all-ones input, float64."""
    model = _bypass_batchnorm(ctx.fresh_model().double())
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    weights = [m.weight for m in weighted_layers(model)]
    if not weights:
        raise UnsupportedNetwork("network has no conv or linear layers")
    x = ctx.task.constant_input(ctx.dataset.input_shape, torch.float64, ctx.device)
    out = task_output(ctx, model(x))
    if not out.requires_grad:
        return 0.0
    grads = torch.autograd.grad(out.sum(), weights, allow_unused=True)
    total = torch.zeros((), dtype=torch.float64)
    for w, g in zip(weights, grads, strict=True):
        if g is not None:
            total += (w.detach() * torch.log(g + 1)).abs().sum()
    return float(total)


PROXIES = (
    ProxySpec("logsynflow", logsynflow, "gradient", "1", tasks=ALL_TASKS, needs_data=False, bn="off", dtype="float64",
              description="Σ |θ·log(1+∂R/∂θ)|, synflow with log gradients (FreeREA)"),
)

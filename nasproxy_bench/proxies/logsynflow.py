"""LogSynflow (FreeREA, Cavagnero et al., WACV 2023): SynFlow with log-compressed gradients.

FreeREA's ``compute_synflow_per_weight(remap='log')`` (NiccoloCavagnero/FreeREA,
``metrics/synflow.py``): BatchNorm replaced by the identity, every parameter made absolute,
float64, one all-ones input; R = sum of the outputs; the score of a conv/linear weight θ is
|θ · log(∂R/∂θ + 1)|, summed over all of them. The logarithm keeps the huge gradients of deep
paths from dominating the sum, which otherwise ranks networks mostly by depth x width.
"""

from __future__ import annotations

import torch

from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec
from nasproxy_bench.proxies.gradient import synflow_gradients


def logsynflow(ctx: ProxyContext) -> float:
    """Σ_θ |θ · log(1 + ∂R/∂θ)| with |θ| weights, BN off, all-ones input, float64.

    Reads synflow's gradient pass (``gradient.synflow_gradients``): with both proxies requested
    the network is run and differentiated once.
    """
    weights, grads = synflow_gradients(ctx, keep_bn=False)
    if grads is None:
        return 0.0
    total = torch.zeros((), dtype=torch.float64, device=weights[0].device)  # on the network's device (CUDA too)
    for w, g in zip(weights, grads, strict=True):
        if g is not None:
            total += (w.detach() * torch.log(g + 1)).abs().sum()
    return float(total)


PROXIES = (
    ProxySpec("logsynflow", logsynflow, "gradient", "1", tasks=ALL_TASKS, needs_data=False, bn="off", dtype="float64",
              description="Σ |θ·log(1+∂R/∂θ)|, synflow with log gradients (FreeREA)"),
)

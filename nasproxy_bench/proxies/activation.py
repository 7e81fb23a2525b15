"""Activation-based proxies: ReLU activation patterns and feature-map statistics."""

from __future__ import annotations

import math

import torch
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.networks import EncoderDecoder, encoder_module
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec
from nasproxy_bench.proxies.passes import hamming_kernel, relu_codes

NLR_SAMPLES = 1000
NLR_SIZE = 4
ZEN_MIXUP = 0.01
ZEN_REPEATS = 1


def naswot(ctx: ProxyContext) -> float:
    """log|det K|, K_ij = N_A − Hamming(c_i, c_j) of the binary ReLU codes (Mellor et al., ICML'21)."""
    kernel = hamming_kernel(ctx.fresh_model(), ctx.batch.x)
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else -math.inf


def nlr(ctx: ProxyContext) -> float:
    """Number of linear regions hit by Gaussian samples: distinct ReLU patterns (TE-NAS style).

    Uses ``NLR_SAMPLES`` standard-normal inputs of spatial size ``NLR_SIZE`` (generated from the
    run seed). Low-dimensional inputs keep the count below the sample size for simple
    networks, but it still saturates for most NB201 cells, so its resolution is limited.
    """
    if len(ctx.dataset.input_shape) != 3:
        raise UnsupportedNetwork("nlr needs image inputs")
    gen = torch.Generator().manual_seed(ctx.seed)
    x = torch.randn((NLR_SAMPLES, ctx.dataset.input_shape[0], NLR_SIZE, NLR_SIZE), generator=gen).to(ctx.device)
    codes = relu_codes(ctx.fresh_model(), x)
    return float(torch.unique(codes, dim=0).shape[0])


def _pooled_input(model: nn.Module) -> nn.Module:
    pools = [m for m in model.modules() if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise UnsupportedNetwork("zen needs a global-average-pooling layer")
    return pools[-1]


def zen(ctx: ProxyContext) -> float:
    """Zen-score (Lin et al., ICCV'21): log E_n ||f(x_n) − f(x_n + αε_n)||₁ + Σ_BN log sqrt(mean running_var).

    f is the pre-pooling feature map; x, ε are standard normal; weights are re-drawn from
    N(0, 1) as in Zen-NAS. As in Zen-NAS's code, each BatchNorm's *running* variance is read
    after the clean and the perturbed forward pass in train mode, starting from fresh running
    statistics (so with momentum 0.1 it is 0.81 + 0.09·var(clean) + 0.1·var(perturbed)); a
    BatchNorm without running statistics contributes its batch variance on the perturbed pass.
    For a task network (``EncoderDecoder``) f is the encoder's output and only encoder
    BatchNorms count; the decoder does not run.
    """
    model = ctx.fresh_model()
    body = encoder_module(model)
    gen = torch.Generator().manual_seed(ctx.seed)
    with torch.no_grad():
        for m in body.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))
                if m.bias is not None:
                    m.bias.zero_()
    norms = [m for m in body.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        if m.track_running_stats:
            m.reset_running_stats()
    features: list[torch.Tensor] = []
    batch_variances: dict[nn.Module, torch.Tensor] = {}

    def keep_batch_variance(module: nn.Module, inputs: tuple) -> None:
        batch_variances[module] = inputs[0].var(dim=(0, 2, 3), unbiased=False).mean()

    if isinstance(model, EncoderDecoder):
        handles = []

        def run(inputs: torch.Tensor) -> None:
            features.append(model.encode(inputs))
    else:
        pool = _pooled_input(model)
        handles = [pool.register_forward_pre_hook(lambda _m, inputs: features.append(inputs[0]))]
        run = model
    handles += [m.register_forward_pre_hook(keep_batch_variance) for m in norms if m.running_var is None]
    batch = ctx.batch.x.shape[0] if ctx.batches else 64
    shape = (batch, *ctx.dataset.input_shape)
    x = torch.randn(shape, generator=gen).to(ctx.device)
    eps = torch.randn(shape, generator=gen).to(ctx.device)
    model.train()
    try:
        with torch.no_grad():
            run(x)
            run(x + ZEN_MIXUP * eps)
    finally:
        for h in handles:
            h.remove()
    delta = (features[0] - features[1]).abs().double().flatten(1).sum(1).mean()
    variances = [float(m.running_var.double().mean()) if m.running_var is not None else float(batch_variances[m]) for m in norms]
    bn_term = sum(0.5 * math.log(v) for v in variances if v > 0)
    return math.log(float(delta)) + bn_term if delta > 0 else -math.inf


PROXIES = (
    ProxySpec("naswot", naswot, "activation", "1", tasks=ALL_TASKS, description="log|det K| of ReLU-code kernel (NASWOT)"),
    ProxySpec("nlr", nlr, "activation", "1", needs_data=False, tasks=ALL_TASKS,
              description=f"#linear regions over {NLR_SAMPLES} Gaussian {NLR_SIZE}x{NLR_SIZE} inputs"),
    ProxySpec("zen", zen, "activation", "2", needs_data=False, log_scale=True, tasks=ALL_TASKS,
              description="Zen-score, Gaussian inputs and weights"),
)

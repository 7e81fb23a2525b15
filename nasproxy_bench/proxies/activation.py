"""Activation-based proxies: ReLU activation patterns and feature-map statistics."""

from __future__ import annotations

import math

import torch
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.networks import EncoderDecoder, encode, encoder_module
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec
from nasproxy_bench.proxies.passes import hamming_kernel

# TE-NAS settings (VITA-Group/TENAS prune_tenas.py / prune_launch.py; lines cited in docs/proxies.md)
NLR_WIDTH = 1  # model_config_thin: C=1
NLR_DEPTH = 1  # model_config_thin: depth=1, use_stem=False (one cell)
NLR_PATCH = 3  # Linear_Region_Collector(input_size=(1000, 1, 3, 3), ...)
NLR_SAMPLES = 1000
NLR_BATCHES = 3  # sample_batch=3
NLR_REPEATS = 3  # --repeat 3
ZEN_MIXUP = 0.01
ZEN_REPEATS = 1


def naswot(ctx: ProxyContext) -> float:
    """log|det K|, K_ij = N_A − Hamming(c_i, c_j) of the binary ReLU codes (Mellor et al., ICML'21)."""
    kernel = hamming_kernel(ctx.fresh_model(), ctx.batch.x)
    sign, logdet = torch.linalg.slogdet(kernel)
    return float(logdet) if sign > 0 else -math.inf


def random_patches(x: torch.Tensor, count: int, size: int, gen: torch.Generator) -> torch.Tensor:
    """``count`` random ``size``x``size`` crops of one random channel of random images of ``x``: (count, 1, size, size).

    TE-NAS's region counter reads training images through ``RandomCrop(size, padding=0)`` and
    ``RandChannel(1)``; here the crops come from the run's fixed (normalised) minibatch.
    """
    n, channels, height, width = x.shape
    if height < size or width < size:
        raise UnsupportedNetwork(f"inputs of {height}x{width} are smaller than the {size}x{size} patches nlr needs")
    image = torch.randint(n, (count,), generator=gen)
    channel = torch.randint(channels, (count,), generator=gen)
    top = torch.randint(height - size + 1, (count,), generator=gen)
    left = torch.randint(width - size + 1, (count,), generator=gen)
    offsets = torch.arange(size)
    rows = (top[:, None] + offsets)[:, :, None]
    cols = (left[:, None] + offsets)[:, None, :]
    index = [t.to(x.device) for t in (image[:, None, None], channel[:, None, None], rows, cols)]
    return x[index[0], index[1], index[2], index[3]].unsqueeze(1)


def relu_patterns(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """On/off state of every unit after every encoder ``nn.ReLU`` that sees a 4-D input: (batch, units), bool.

    The units TE-NAS's ``Linear_Region_Collector`` (nlr) and SWAP hook: ReLU modules on feature maps.
    """
    codes: list[torch.Tensor] = []

    def keep(_module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if inputs[0].dim() == 4:
            codes.append((output > 0).flatten(1))

    handles = [m.register_forward_hook(keep) for m in encoder_module(model).modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            encode(model, x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise UnsupportedNetwork("network has no ReLU on feature maps")
    return torch.cat(codes, dim=1)


def nlr(ctx: ProxyContext) -> float:
    """Number of linear regions by TE-NAS's protocol (Chen et al., ICLR'21; settings in docs/proxies.md).

    The cell is built at ``NLR_WIDTH`` channel as ``NLR_DEPTH`` layer without stem
    (``Benchmark.build_resized``), in train mode, with torch's default initialisation. Its ReLU
    patterns are read on ``NLR_BATCHES`` batches of ``NLR_SAMPLES`` one-channel
    ``NLR_PATCH``x``NLR_PATCH`` image crops; the score is the number of distinct patterns, averaged
    over ``NLR_REPEATS`` initialisations (each with new crops).
    """
    if len(ctx.dataset.input_shape) != 3:
        raise UnsupportedNetwork("nlr needs image inputs")
    gen = torch.Generator().manual_seed(ctx.seed)
    counts = []
    for repeat in range(NLR_REPEATS):
        model = ctx.resized_model(repeat, channels=NLR_WIDTH, cells_per_stage=1, depth=NLR_DEPTH, stem=False)
        patterns = [relu_patterns(model, random_patches(ctx.batch.x, NLR_SAMPLES, NLR_PATCH, gen)) for _ in range(NLR_BATCHES)]
        counts.append(torch.unique(torch.cat(patterns), dim=0).shape[0])
    return sum(counts) / len(counts)


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
    ProxySpec("nlr", nlr, "activation", "2", tasks=ALL_TASKS,
              description=f"#linear regions of the C={NLR_WIDTH} one-cell network over {NLR_BATCHES}x{NLR_SAMPLES} "
                          f"{NLR_PATCH}x{NLR_PATCH} crops, mean of {NLR_REPEATS} inits (TE-NAS)"),
    ProxySpec("zen", zen, "activation", "2", needs_data=False, log_scale=True, tasks=ALL_TASKS,
              description="Zen-score, Gaussian inputs and weights"),
)

"""SWAP-Score (Peng et al., ICLR 2024): number of distinct sample-wise activation patterns.

Settings of the authors' code (pym1024/SWAP, ``src/metrics/swap.py`` and ``correlation.py``):
the outputs of every ReLU that receives a 4-D map are concatenated per sample into a
(samples x neurons) matrix and binarised with sign (ReLU outputs, so 1 = active); transposed,
each neuron has a pattern over the samples, and the score is the number of DISTINCT neuron
patterns. Weights are re-drawn from N(0, 1) (conv/linear; BatchNorm scale 1, shift 0) and
the score is averaged over ``SWAP_REPEATS`` such draws; the batch is ``SWAP_SAMPLES`` training
images; BatchNorm uses batch statistics.

``swap_reg`` is the regularised SWAP-Score, SWAP × exp(−(Θ − μ)² / σ) with Θ the parameter
count in THOUSANDS (pym1024/SWAP ``src/utils/utilities.py::count_parameters`` divides by 1e3;
``src/metrics/swap.py::cal_regular_factor`` and ``calSWAP`` multiply the count by the factor).
The μ and σ the paper used on NAS-Bench-201 are not in the public code and could not be read
here, so ``swap_reg`` sets them from the evaluated sample, without looking at accuracy: μ =
mean of Θ, σ = 2·variance of Θ, i.e. a unit Gaussian bump over the sample's standardised size.
It is therefore a derived proxy (computed by the report from the stored ``swap`` and
``params`` scores, no network pass repeated), and NOT the paper's configuration.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.networks import encode, encoder_module
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec

SWAP_SAMPLES = 16  # correlation.py --input_samples
SWAP_REPEATS = 32  # correlation.py --repeats
MAX_PACKED = 62  # patterns over up to 62 samples fit one int64


def gaussian_reinit(model: nn.Module, gen: torch.Generator) -> None:
    """SWAP's ``network_weight_gaussian_init``: conv/linear weights N(0,1), biases 0; BN/GN scale 1, shift 0."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()


def distinct_neuron_patterns(active: torch.Tensor) -> int:
    """Number of distinct columns of a (samples x neurons) boolean activation matrix."""
    samples = active.shape[0]
    if samples > MAX_PACKED:
        return int(torch.unique(active.T, dim=0).shape[0])
    weights = torch.pow(2, torch.arange(samples, dtype=torch.int64, device=active.device))
    packed = (active.to(torch.int64) * weights[:, None]).sum(dim=0)
    return int(torch.unique(packed).numel())


def _relu_patterns(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Concatenated (ReLU output > 0) of every ReLU fed a 4-D map: (samples, neurons) bool."""
    codes: list[torch.Tensor] = []

    def keep(_m: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if inputs[0].dim() == 4:
            codes.append((output > 0).reshape(len(output), -1))

    relus = [m for m in encoder_module(model).modules() if isinstance(m, nn.ReLU)]
    handles = [m.register_forward_hook(keep) for m in relus]
    try:
        with torch.no_grad():
            encode(model, x)
    finally:
        for h in handles:
            h.remove()
    if not codes:
        raise UnsupportedNetwork("network has no ReLU on a 4-D feature map")
    return torch.cat(codes, dim=1)


def swap(ctx: ProxyContext) -> float:
    """Mean over Gaussian re-initialisations of the number of distinct neuron activation patterns."""
    if not ctx.task.differentiable_input:
        raise UnsupportedNetwork(f"{ctx.dataset.name} inputs are token ids; SWAP reads image feature maps")
    x = ctx.batch.x[:SWAP_SAMPLES]
    model = ctx.fresh_model()
    model.train()
    gen = torch.Generator().manual_seed(ctx.seed)
    counts = []
    for _ in range(SWAP_REPEATS):
        gaussian_reinit(model, gen)
        counts.append(distinct_neuron_patterns(_relu_patterns(model, x)))
    return sum(counts) / len(counts)


PARAMS_PER_SWAP_UNIT = 1e3  # Θ is counted in thousands of parameters (pym1024/SWAP count_parameters)
PARAMS_PROXY_UNIT = 1e6  # our `params` proxy stores millions


def regularisation_factor(theta: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """SWAP's size regulariser exp(−(Θ − μ)² / σ) (σ divides the squared distance, it is not squared)."""
    return np.exp(-np.square(np.asarray(theta, dtype=np.float64) - mu) / sigma)


def regularised_swap(scores: list[np.ndarray], signs: list[float]) -> np.ndarray:
    """``swap_reg`` over the evaluated sample: SWAP × exp(−(Θ − μ)² / σ), μ = mean Θ, σ = 2·var Θ.

    ``scores`` are the stored (swap, params) of each architecture, params in millions; Θ is
    params in thousands. ``signs`` are not used: the factor multiplies the raw SWAP count, as in
    the paper. An architecture with a non-finite constituent gets NaN and is left out of μ and σ;
    where every valid architecture has the same size (σ = 0) the factor is 1.
    """
    del signs
    swap_scores, params_m = (np.asarray(s, dtype=np.float64) for s in scores)
    theta = params_m * (PARAMS_PROXY_UNIT / PARAMS_PER_SWAP_UNIT)
    valid = np.isfinite(swap_scores) & np.isfinite(theta)
    out = np.full(swap_scores.shape, np.nan)
    if not valid.any():
        return out
    mu = float(theta[valid].mean())
    sigma = 2.0 * float(theta[valid].var())
    factor = regularisation_factor(theta[valid], mu, sigma) if sigma > 0 else np.ones(int(valid.sum()))
    out[valid] = swap_scores[valid] * factor
    return out


def _not_per_network(ctx: ProxyContext) -> float:
    raise RuntimeError("swap_reg depends on the evaluated sample; the report computes it from the stored swap and params")


PROXIES = (
    ProxySpec("swap", swap, "activation", "1", tasks=ALL_TASKS, opt_in=True,  # 7.6x a forward+backward: not in `all`
              description=f"#distinct per-neuron ReLU patterns over {SWAP_SAMPLES} images, mean of {SWAP_REPEATS} N(0,1) inits (SWAP)"),
    # opt-in like swap: `all` must not pull in swap through it
    ProxySpec("swap_reg", _not_per_network, "ensemble", "1", tasks=ALL_TASKS, opt_in=True,
              derived_from=("swap", "params"), combine=regularised_swap,
              description="SWAP × exp(−(Θ−μ)²/σ), Θ = params (K); μ, σ = mean, 2·var of Θ over the sample (paper's NB201 μ, σ unknown)"),
)

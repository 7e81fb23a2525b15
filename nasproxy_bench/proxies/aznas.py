"""AZ-NAS (Lee & Ham, CVPR 2024): four per-network scores and their non-linear rank aggregation.

Settings of the authors' NB201 code (cvlab-yonsei/AZ-NAS, ``NB201/ZeroShotProxy/compute_az_nas_score.py``
and ``NB201/tss_general.ipynb``): conv/linear weights re-drawn Kaiming-normal (fan-in, ReLU
gain), BatchNorm scale 1 / shift 0 in train mode, a batch of ``AZ_BATCH`` standard-normal
inputs (no images), and the feature maps after the stem and after every cell
(``StagedNetwork.block_outputs``):

- expressivity: Σ over maps of the entropy of the normalised eigenvalues of the channel
  covariance (positions and samples as observations): how isotropic the features are;
- progressivity: min over consecutive maps of the increase of that entropy;
- trainability: for each consecutive pair (f_in -> f_out), a Rademacher cotangent g_out is
  pulled back to g_in = (∂f_out/∂f_in)ᵀ g_out (pixel-unshuffled to f_out's size where the
  block downsamples); with σ the largest singular value of mean_positions g_in g_outᵀ, the
  pair scores 2 − σ − 1/σ (0 at σ = 1, the norm-preserving case); the mean over pairs. A
  block whose pull-back is the identity (all-skip) scores −inf;
- complexity: FLOPs (the registered ``flops`` proxy).

``az_nas`` itself ranks networks against each other: Σ_components log(rank / n) over the
evaluated sample (``aggregate_log_ranks``), so it is a derived proxy, computed by the report
from the stored components (like ``vote``), never per network.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.networks import StagedNetwork, encoder_module
from nasproxy_bench.proxies.base import ProxyContext, ProxySpec, reinit_weights

AZ_BATCH = 64  # configs/nas-benchmark/algos/weight-sharing.config batch_size
ENTROPY_EPS = 1e-8
SIGMA_EPS = 1e-6


def kaiming_fan_in_reinit(model: nn.Module, gen: torch.Generator) -> None:
    """AZ-NAS's ``kaiming_norm_fanin`` init: conv/linear N(0, 2/fan_in), biases 0; affine BN/GN scale 1, shift 0.

    Drawn on the CPU from ``gen`` and copied: the same weights on any device (a CPU generator
    cannot fill a CUDA tensor)."""
    reinit_weights(model, lambda w: w.copy_(kaiming_fan_in(w.shape, w.dtype, gen)))


def kaiming_fan_in(shape: torch.Size, dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    return nn.init.kaiming_normal_(torch.empty(shape, dtype=dtype), mode="fan_in", nonlinearity="relu", generator=gen)


def eigen_entropy(feature: torch.Tensor) -> float:
    """Entropy of the normalised eigenvalues of the channel covariance of a (B, C, H, W) map."""
    b, c, h, w = feature.shape
    flat = feature.detach().double().permute(0, 2, 3, 1).reshape(b * h * w, c)
    flat = flat - flat.mean(dim=0, keepdim=True)
    sigma = flat.T @ flat / flat.shape[0]
    eig = torch.linalg.eigvalsh(sigma)
    prob = eig / eig.sum()
    return float((-prob * torch.log(prob + ENTROPY_EPS)).sum())


def pair_trainability(f_in: torch.Tensor, f_out: torch.Tensor, gen: torch.Generator) -> float:
    """2 − σ − 1/σ for σ the top singular value of the mean outer product of pulled-back and Rademacher cotangents."""
    g_out = (torch.randint(0, 2, f_out.shape, generator=gen, dtype=torch.int64).to(f_out) * 2 - 1)
    if f_out.requires_grad:
        (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True, allow_unused=True)
    else:
        g_in = None
    if g_in is None:  # the block's output does not depend on its input (e.g. all-zero cell)
        g_in = torch.zeros_like(f_in)
    if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
        return -math.inf
    if g_in.shape[2:] != g_out.shape[2:]:
        g_in = nn.functional.pixel_unshuffle(g_in, g_in.shape[2] // g_out.shape[2])
    bo, co, ho, wo = g_out.shape
    g_out_flat = g_out.permute(0, 2, 3, 1).reshape(bo * ho * wo, co).double()
    g_in_flat = g_in.permute(0, 2, 3, 1).reshape(-1, g_in.shape[1]).double()
    top = float(torch.linalg.svdvals(g_in_flat.T @ g_out_flat / (bo * ho * wo))[0])
    return -top - 1.0 / (top + SIGMA_EPS) + 2.0


def _components(ctx: ProxyContext) -> dict[str, float]:
    model = ctx.fresh_model()
    body = encoder_module(model)
    if not isinstance(body, StagedNetwork):
        raise UnsupportedNetwork("AZ-NAS reads block feature maps; this network does not expose them (StagedNetwork)")
    if len(ctx.dataset.input_shape) != 3:
        raise UnsupportedNetwork("AZ-NAS needs image inputs")
    gen = torch.Generator().manual_seed(ctx.seed)
    kaiming_fan_in_reinit(model, gen)
    model.train()
    x = torch.randn((AZ_BATCH, *ctx.dataset.input_shape), generator=gen).to(ctx.device)
    feats = body.block_outputs(x)
    if len(feats) < 2:
        raise UnsupportedNetwork("AZ-NAS needs at least two block feature maps")
    entropies = np.array([eigen_entropy(f) for f in feats])
    pairs = [pair_trainability(feats[i - 1], feats[i], gen) for i in reversed(range(1, len(feats)))]
    values = {
        "expressivity": float(entropies.sum()),
        "progressivity": float(np.min(entropies[1:] - entropies[:-1])),
        "trainability": float(np.mean(pairs)),
    }
    return {k: (-math.inf if math.isnan(v) else v) for k, v in values.items()}


def _component(name: str):
    def score(ctx: ProxyContext) -> float:
        return ctx.shared("aznas_components", lambda: _components(ctx))[name]

    score.__name__ = f"az_{name}"
    score.__doc__ = f"AZ-NAS {name} score (see module docstring)."
    return score


def aggregate_log_ranks(scores: list[np.ndarray], signs: list[float]) -> np.ndarray:
    """AZ-NAS's non-linear rank aggregation: Σ_m log(rank_m / n), ranks ascending (average ties).

    ``scores[m][a]`` is component m's score of architecture a, oriented by ``signs`` to
    higher-is-better; −inf is a valid (lowest) score; an architecture with a NaN component
    gets NaN and is left out of the ranking.
    """
    oriented = np.stack([np.asarray(s, dtype=np.float64) * sign for s, sign in zip(scores, signs, strict=True)])
    valid = ~np.any(np.isnan(oriented), axis=0)
    out = np.full(oriented.shape[1], np.nan)
    n = int(valid.sum())
    if n:
        out[valid] = sum(np.log(stats.rankdata(row[valid]) / n) for row in oriented)
    return out


def _not_per_network(ctx: ProxyContext) -> float:
    raise RuntimeError("az_nas ranks the evaluated sample; the report computes it from the stored components")


COMPONENTS = ("expressivity", "progressivity", "trainability")
PROXIES = (
    *(ProxySpec(f"az_{name}", _component(name), "activation", "1", needs_data=False,
                description=f"AZ-NAS {name} (Gaussian inputs, Kaiming fan-in init)") for name in COMPONENTS),
    ProxySpec("az_nas", _not_per_network, "ensemble", "1",
              derived_from=("az_expressivity", "az_progressivity", "az_trainability", "flops"),
              combine=aggregate_log_ranks,
              description="AZ-NAS: Σ log(rank/n) of expressivity, progressivity, trainability, FLOPs over the sample"),
)

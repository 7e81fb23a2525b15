"""Gradient-based proxies (pruning-at-init saliencies and gradient statistics).

Sums run over the weights of conv and linear layers, as in the reference implementations of
"Zero-Cost Proxies for Lightweight NAS" (Abdelfattah et al., ICLR'21); the loss is the task's
loss over the fixed batch (``ctx.task.loss``: mean cross-entropy for classification), with
BatchNorm using batch statistics.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nasproxy_bench.benchmark import Direction
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.proxies.base import ALL_TASKS, ProxyContext, ProxySpec
from nasproxy_bench.proxies.passes import loss_gradients, task_output, weighted_layers
from nasproxy_bench.proxies.per_sample import per_sample_blocks


def _total(values: list[torch.Tensor]) -> float:
    return float(torch.stack([v.detach().double() for v in values]).sum())


def grad_norm(ctx: ProxyContext) -> float:
    """Σ_l ||∂L/∂W_l||₂."""
    return _total([g.norm() for g in loss_gradients(ctx).grads])


def snip(ctx: ProxyContext) -> float:
    """Σ |W ⊙ ∂L/∂W| (Lee et al., ICLR'19)."""
    lg = loss_gradients(ctx)
    return _total([(w.detach() * g.detach()).abs().sum() for w, g in zip(lg.weights, lg.grads, strict=True)])


def plain(ctx: ProxyContext) -> float:
    """Σ W ⊙ ∂L/∂W (first-order Taylor change of the loss)."""
    lg = loss_gradients(ctx)
    return _total([(w.detach() * g.detach()).sum() for w, g in zip(lg.weights, lg.grads, strict=True)])


def l2_norm(ctx: ProxyContext) -> float:
    """Σ_l ||W_l||₂ at initialisation."""
    return _total([layer.weight.detach().norm() for layer in weighted_layers(ctx.model)])


def fisher(ctx: ProxyContext) -> float:
    """Σ over conv/linear outputs z and channels c of fan_in x ½ E_n[(Σ_positions z ⊙ ∂L/∂z)²] (Turner et al.).

    The reference code (zero-cost-nas / NASLib ``fisher``) computes the per-channel value, gives
    it to each of the channel's weights and sums over weights: each channel counts fan-in times
    (in_channels/groups x kernel area). Version 1 summed channels once; on TransNAS micro its
    ranks differed from NASLib's with the cells' number of 3x3 against 1x1 convolutions.
    """
    grads = loss_gradients(ctx)
    return _total([0.5 * fan_in * t.double().pow(2).mean(0).sum()
                   for t, fan_in in zip(grads.activation_terms, grads.activation_fan_in, strict=True)])


def grasp(ctx: ProxyContext) -> float:
    """−Σ θ ⊙ (H g) with g = ∂L/∂θ and H the Hessian (Wang et al., ICLR'20), θ = conv/linear weights."""
    lg = loss_gradients(ctx)
    if not lg.graph:
        raise RuntimeError("loss_gradients was computed without a graph; 'grasp' must be in ctx.requested")
    with_graph = [g for g in lg.grads if g.requires_grad]
    if not with_graph:  # no gradient depends on the weights (the loss is linear in each): H g = 0
        return 0.0
    z = sum((g * g.detach()).sum() for g in with_graph)
    hessian_grad = torch.autograd.grad(z, lg.weights, allow_unused=True)
    return -_total([
        (w.detach() * hg).sum() for w, hg in zip(lg.weights, hessian_grad, strict=True) if hg is not None
    ])


def _without_batchnorm(model: nn.Module) -> nn.Module:
    for name, child in model.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(model, name, nn.Identity())
        else:
            _without_batchnorm(child)
    return model


def synflow_gradients(ctx: ProxyContext, keep_bn: bool) -> tuple[list[torch.Tensor], tuple[torch.Tensor | None, ...] | None]:
    """(|θ| weights, ∂R/∂θ) of the SynFlow pass: all-ones input, float64, BatchNorm removed unless ``keep_bn``.

    One pass per architecture, shared by synflow and logsynflow (same network, same input). The
    gradients are ``None`` when the output does not depend on any weight.
    """
    return ctx.shared(f"synflow_gradients/keep_bn={keep_bn}", lambda: _synflow_gradients(ctx, keep_bn))


def _refuse_one_value_per_channel(module: nn.Module, inputs: tuple) -> None:
    x = inputs[0]
    if module.training and x.numel() == x.shape[1]:
        raise UnsupportedNetwork(
            f"a train-mode BatchNorm sees one value per channel (input {tuple(x.shape)}) on synflow_bn's batch of one: "
            "its statistics are undefined; feed inputs large enough that the last maps are wider than 1x1")


def _synflow_gradients(ctx: ProxyContext, keep_bn: bool) -> tuple[list[torch.Tensor], tuple[torch.Tensor | None, ...] | None]:
    model = ctx.fresh_model().double()
    if keep_bn:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.register_forward_pre_hook(_refuse_one_value_per_channel)
    else:
        _without_batchnorm(model)
    with torch.no_grad():
        for p in model.parameters():
            p.abs_()
    layers = weighted_layers(model)
    if not layers:
        raise UnsupportedNetwork("network has no conv or linear layers")
    x = ctx.task.constant_input(ctx.dataset.input_shape, torch.float64, ctx.device)
    weights = [m.weight for m in layers]
    out = task_output(ctx, model(x))
    if not out.requires_grad:
        return weights, None
    return weights, torch.autograd.grad(out.sum(), weights, allow_unused=True)


def _synflow(ctx: ProxyContext, keep_bn: bool) -> float:
    weights, grads = synflow_gradients(ctx, keep_bn)
    if grads is None:
        raise RuntimeError("the network's output does not depend on its weights: SynFlow has no gradient")
    # |θ ⊙ ∂R/∂θ| per weight, as the reference code sums it: without BatchNorm every factor is
    # non-negative, but a train-mode BatchNorm can make ∂R/∂θ negative.
    return _total([(w * g).abs().sum() for w, g in zip(weights, grads, strict=True) if g is not None])


def synflow(ctx: ProxyContext) -> float:
    """Σ |θ| ⊙ ∂R/∂θ, R = sum of outputs for an all-ones input, BatchNorm removed, float64 (Tanaka et al.)."""
    return _synflow(ctx, keep_bn=False)


def synflow_bn(ctx: ProxyContext) -> float:
    """SynFlow with BatchNorm kept (train mode, batch of one), as in the zero-cost reference code.

    Σ |θ ⊙ ∂R/∂θ|: with BatchNorm the gradient can be negative, and the reference takes the
    absolute value of the product (version 1 summed the signed products).
    """
    return _synflow(ctx, keep_bn=True)


def gradsign(ctx: ProxyContext) -> float:
    """Σ_k |Σ_i sign(∂L(x_i)/∂θ_k)| over per-sample gradients (Zhang & Jia, ICLR'22)."""
    # block by block (not shared: no other proxy reads them); signs in place: no second block-sized tensor
    return sum(float(block.sign_().sum(0).abs().sum()) for block in per_sample_blocks(ctx, "loss"))


def zico(ctx: ProxyContext) -> float:
    """Σ_l log Σ_{θ∈l} E[|g_θ|] / std(g_θ) over ≥2 batches (Li et al., ICLR'23)."""
    if len(ctx.batches) < 2:
        raise UnsupportedNetwork("zico needs two minibatches")
    per_batch = [loss_gradients(ctx, i).grads for i in range(len(ctx.batches))]
    total = 0.0
    for layer_grads in zip(*per_batch, strict=True):
        g = torch.stack([x.detach().double().flatten() for x in layer_grads])
        std = g.std(dim=0, unbiased=False)
        mean_abs = g.abs().mean(dim=0)
        nonzero = std > 0
        ratio = (mean_abs[nonzero] / std[nonzero]).sum()
        if ratio > 0:
            total += math.log(float(ratio))
    return total


def ntk_cond_ps(ctx: ProxyContext) -> float:
    """Condition number λ_max/λ_min of J Jᵀ with per-sample BatchNorm (J from ``vmap``); lower is better.

    Not TE-NAS's procedure (``ntk_cond``): each sample is normalised with its own statistics,
    on the full network, conv/linear weights only.
    """
    gram = sum(_float64_gram(block) for block in per_sample_blocks(ctx, "output"))
    # An eigenvalue within float64 rounding of zero (numpy's matrix_rank tolerance, n * eps * λ_max)
    # is zero: its sign and size depend on the summation order (an NB-NLP cell: inf from one
    # product, 2.0e14 from column chunks), so such a kernel is singular, inf.
    return _condition_number_of_gram(gram, singular_below=len(gram) * torch.finfo(torch.float64).eps)


# TE-NAS settings (VITA-Group/TENAS prune_tenas.py / prune_launch.py / lib/procedures/ntk.py; lines in docs/proxies.md)
NTK_CHANNELS = 3  # model_config: C=3
NTK_CELLS = 1  # model_config: N=1 (stem, cell, reduction, cell, reduction, cell)
NTK_REPEATS = 3  # --repeat 3; new weights each time as the paper says (its code keeps the weights and draws a new batch)
NTK_CHUNK = 8  # rows backpropagated together; on 1 CPU thread 8 ≈ a plain loop, 32 and 72 are 5-30% slower


def _output_row_grads_batch_coupled(ctx: ProxyContext, model: nn.Module) -> torch.Tensor:
    """J with J[i] = ∂(Σ_c f(X)_ic)/∂θ from ONE forward of the whole batch X: (batch, n_weights).

    BatchNorm normalises with the statistics of the whole batch, so every row depends on every
    sample. θ is every parameter named ``weight`` (conv, linear and BatchNorm scale), the
    parameter set TE-NAS collects. Rows are backpropagated ``NTK_CHUNK`` at a time as batched
    vector-Jacobian products (``is_grads_batched``: one vectorised backward per chunk).
    """
    weights = [p for n, p in model.named_parameters() if n.rsplit(".", 1)[-1] == "weight" and p.requires_grad]
    if not weights:
        raise UnsupportedNetwork("network has no weight parameters")
    logits = task_output(ctx, model(ctx.batch.x))  # any shape (batch, ...): row i sums sample i's outputs
    n = len(logits)
    rows = []
    for start in range(0, n, NTK_CHUNK):
        k = min(NTK_CHUNK, n - start)
        cotangents = torch.zeros((k, *logits.shape), dtype=logits.dtype, device=logits.device)
        cotangents[torch.arange(k), torch.arange(start, start + k)] = 1.0
        grads = torch.autograd.grad(
            logits, weights, grad_outputs=cotangents, is_grads_batched=True,
            retain_graph=start + k < n, allow_unused=True,
        )
        # a weight the output does not depend on has no gradient (TE-NAS skips it; a zero column is the same kernel)
        rows.append(torch.cat([g.reshape(k, -1) for g in grads if g is not None], dim=1).double())
    return torch.cat(rows)


def _condition_number(jac: torch.Tensor) -> float:
    return _condition_number_of_gram(jac @ jac.T)


def _condition_number_of_gram(gram: torch.Tensor, singular_below: float = 0.0) -> float:
    """λ_max / λ_min; ``inf`` when λ_min <= λ_max * ``singular_below`` (the kernel is singular)."""
    eig = torch.linalg.eigvalsh(gram)
    if eig[0] <= max(float(eig[-1]) * singular_below, 0.0):
        return math.inf
    return float(eig[-1] / eig[0])


GRAM_CHUNK = 1 << 20  # columns of J converted to float64 at a time (at batch 64: 512 MiB)


def _float64_gram(jac: torch.Tensor) -> torch.Tensor:
    """J Jᵀ in float64 without a float64 copy of a large J (an NB-NLP cell's J is 64 x 11M)."""
    if jac.shape[1] <= GRAM_CHUNK:
        j = jac.double()
        return j @ j.T
    gram = torch.zeros((len(jac), len(jac)), dtype=torch.float64, device=jac.device)
    for start in range(0, jac.shape[1], GRAM_CHUNK):
        part = jac[:, start:start + GRAM_CHUNK].double()
        gram += part @ part.T
    return gram


def ntk_cond(ctx: ProxyContext) -> float:
    """TE-NAS's NTK condition number (Chen et al., ICLR'21), by its code's protocol; lower is better.

    On the architecture at C=``NTK_CHANNELS``, N=``NTK_CELLS`` (``Benchmark.build_resized``), in
    train mode: per-sample gradients of the summed logits through ONE forward of the run's batch
    (BatchNorm couples the samples), over every ``weight`` parameter; the condition number of
    J Jᵀ, averaged over ``NTK_REPEATS`` initialisations.
    """
    conds = []
    for repeat in range(NTK_REPEATS):
        model = ctx.resized_model(repeat, channels=NTK_CHANNELS, cells_per_stage=NTK_CELLS)
        conds.append(_condition_number(_output_row_grads_batch_coupled(ctx, model)))
    return sum(conds) / len(conds)


def ntk_cond_full(ctx: ProxyContext) -> float:
    """TE-NAS's procedure (batch-coupled BatchNorm, every ``weight``) on the run's full network, one initialisation.

    For spaces without ``Benchmark.build_resized``; one batch-sized backward per sample.
    """
    return _condition_number(_output_row_grads_batch_coupled(ctx, ctx.fresh_model()))


PROXIES = (
    ProxySpec("grad_norm", grad_norm, "gradient", "1", tasks=ALL_TASKS, needs_labels=True, description="Σ_l ||∂L/∂W_l||₂"),
    ProxySpec("snip", snip, "gradient", "1", tasks=ALL_TASKS, needs_labels=True, description="Σ |W ⊙ ∂L/∂W|"),
    ProxySpec("plain", plain, "gradient", "1", tasks=ALL_TASKS, needs_labels=True, description="Σ W ⊙ ∂L/∂W"),
    ProxySpec("l2_norm", l2_norm, "gradient", "1", tasks=ALL_TASKS, needs_data=False, bn="none", description="Σ_l ||W_l||₂"),
    ProxySpec("fisher", fisher, "gradient", "2", tasks=ALL_TASKS, needs_labels=True,
              description="Σ fan_in · ½E[(Σ z ⊙ ∂L/∂z)²] per channel (v2: per weight, as the reference code)"),
    ProxySpec("grasp", grasp, "gradient", "1", tasks=ALL_TASKS, needs_labels=True, description="−Σ θ ⊙ Hg"),
    ProxySpec("synflow", synflow, "gradient", "1", tasks=ALL_TASKS, needs_data=False, bn="off", dtype="float64",
              description="Σ |θ| ⊙ ∂R/∂θ, all-ones input, BN off, float64"),
    ProxySpec("synflow_bn", synflow_bn, "gradient", "2", tasks=ALL_TASKS, needs_data=False, bn="train", dtype="float64",
              description="Σ |θ ⊙ ∂R/∂θ| with BatchNorm kept (train mode, batch of one), float64"),
    ProxySpec("gradsign", gradsign, "gradient", "1", tasks=ALL_TASKS, needs_labels=True, description="Σ_k |Σ_i sign(per-sample ∂L/∂θ_k)|"),
    ProxySpec("zico", zico, "gradient", "1", tasks=ALL_TASKS, needs_labels=True, n_batches=2,
              description="Σ_l log Σ mean|g|/std(g) over 2 batches"),
    ProxySpec("ntk_cond", ntk_cond, "gradient", "2", direction=Direction.LOWER, tasks=ALL_TASKS,
              description=f"NTK condition number, TE-NAS protocol: C={NTK_CHANNELS} N={NTK_CELLS} network, batch-coupled BN, "
                          f"mean of {NTK_REPEATS} inits"),
    # v2 (session 12): a kernel singular up to float64 rounding is inf; a large J Jᵀ is built from column chunks
    ProxySpec("ntk_cond_ps", ntk_cond_ps, "gradient", "2", tasks=ALL_TASKS, direction=Direction.LOWER,
              description="NTK condition number on the full network with per-sample BatchNorm (not TE-NAS)"),
    ProxySpec("ntk_cond_full", ntk_cond_full, "gradient", "1", tasks=ALL_TASKS, direction=Direction.LOWER, opt_in=True,
              description="TE-NAS's NTK procedure on the full network, one init (one backward per sample)"),
)

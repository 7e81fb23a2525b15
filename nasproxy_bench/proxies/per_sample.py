"""Per-sample gradients of the conv/linear weights, as (batch, n) column blocks, for gradsign and ntk_cond_ps.

Each sample is a batch of one: BatchNorm normalises it with its own statistics. Three ways,
same values up to float32 rounding:

- ``vmap`` over ``torch.func.grad`` (the default);
- a loop of one-sample backward passes, for a network that sets ``per_sample_loop``
  (recurrent: under vmap every time step keeps its own per-sample weight gradient);
- gathered: where such a network's scored weights all sit in ``nn.Linear`` / ``nn.Embedding``
  modules, ONE backward of the whole batch to the layers' outputs, then per sample and layer
  Σ_uses g_useᵀ a_use as one matrix product over all uses (a recurrent layer's time steps),
  instead of a rank-one update per step. Exact only when samples do not interact (no
  BatchNorm, nothing else mixing the batch) and every use of a weight goes through its module,
  so the last sample's row is recomputed by the loop and compared; on a mismatch the loop
  computes every row. One NB-NLP cell (64 sequences of 70 tokens, 10.1M scored weights), one
  thread: 62 s looped, 4.5 s gathered plus 0.5 s for the check row; rows equal to 1.5e-7 of their
  largest entry. It hands out one weight's block at a time, so gradsign and ntk_cond_ps never hold
  batch x all weights (a larger cell: 3.7 GB peak instead of 6.7 GB for gradsign).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.proxies.passes import task_loss, task_output, weighted_layers

# Relative spread max|f(x_i) - f(x_0)| / max|f| of the per-sample outputs. Measured: TransNAS pooled
# heads (input-blind) 1.6e-6 to 1.6e-5 in float32 and 8e-15 to 3e-14 in float64; an untrained
# NB-NLP language model (input-dependent, weakly) 3.2e-6 in both. float32 cannot tell them apart,
# float64 separates them by eight orders of magnitude.
CLEARLY_DIFFERENT = 1e-3  # a float32 spread above this needs no float64 check
SAME_OUTPUT_RTOL = 1e-9  # float64 spread at or below this is rounding
# The gathered rows must match the loop's to float32 rounding of a sum over uses (measured on one
# NB-NLP cell: 1.5e-7 of the row's largest entry); a layout or batch-coupling mistake is off by O(1).
GATHERED_RTOL = 1e-4


def _rounding(dtype: torch.dtype) -> float:
    """Relative difference a batched and a one-sample forward may show from summation order alone."""
    return 1e-5 if dtype == torch.float32 else 1e-12


def _batched_matches(batched: torch.Tensor, alone: torch.Tensor, relative: float) -> bool:
    """Whether a value computed with the whole batch equals the one-sample computation, to ``relative`` of its largest entry.

    Both shortcuts for a ``per_sample_loop`` network (batched outputs, gathered gradients) are
    exact only when samples do not interact; each checks one sample against the plain computation.
    """
    return torch.allclose(batched, alone, rtol=0.0, atol=relative * float(alone.abs().max()))


class PerSampleNetwork:
    """A fresh copy of the network called one sample at a time (``functional_call`` under ``vmap``,
    or in a plain loop for a network that sets ``per_sample_loop``).

    BatchNorm sees each sample alone (batch statistics of one example), as in a per-sample loop;
    running statistics are not updated under vmap, batch statistics are used instead.
    ``dtype`` converts the copy and floating-point inputs (the float64 signal check).
    """

    def __init__(self, ctx: ProxyContext, dtype: torch.dtype = torch.float32) -> None:
        self.ctx = ctx
        self.model = ctx.fresh_model().to(dtype)
        self.dtype = dtype
        param_names = {id(p): n for n, p in self.model.named_parameters()}
        self.weight_names = [param_names[id(m.weight)] for m in weighted_layers(self.model)]
        if not self.weight_names:
            raise UnsupportedNetwork("network has no conv or linear layers")
        self.params = {n: p.detach() for n, p in self.model.named_parameters()}
        for m in self.model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.track_running_stats = False
                m.running_mean = m.running_var = None
        self.buffers = dict(self.model.named_buffers())
        # A recurrent network reuses its weights at every time step, and vmap keeps one per-sample
        # gradient per use (one NB-NLP cell: 4.8 GB peak with one sequence at a time; all 16 at once
        # did not fit under a 9 GB cap); such a network sets ``per_sample_loop``.
        self.loop = bool(getattr(ctx.model, "per_sample_loop", False))

    def inputs(self, samples: Sequence[int] | None = None) -> torch.Tensor:
        x = self.ctx.batch.x if samples is None else self.ctx.batch.x[list(samples)]
        return x.to(self.dtype) if x.is_floating_point() else x

    def output(self, weights: dict, x: torch.Tensor) -> torch.Tensor:
        """The network's output for one sample ``x`` (no batch dimension)."""
        return functional_call(self.model, ({**self.params, **weights}, self.buffers), (x.unsqueeze(0),))

    def outputs(self, samples: Sequence[int] | None = None) -> torch.Tensor:
        """Every sample's read output (``task_output``), each computed alone: (batch, 1, ...), or only those of ``samples``.

        A ``per_sample_loop`` network is run on the whole batch when that gives the last sample's
        own output (samples that do not interact): one NB-NLP cell's 64 one-sequence forwards
        took 8 s in float32 and 16 s in float64, weight-bandwidth bound.
        """
        with torch.no_grad():
            x = self.inputs(samples)
            if not self.loop:
                return vmap(lambda sample: task_output(self.ctx, self.output({}, sample)))(x)
            alone = task_output(self.ctx, self.output({}, x[-1]))
            together = task_output(self.ctx, self.model(x)).unsqueeze(1)
            if _batched_matches(together[-1], alone, _rounding(self.dtype)):
                return together
            return torch.stack([task_output(self.ctx, self.output({}, sample)) for sample in x])

    def objective(self, objective: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One sample's objective from its output (batch dimension 1): 'loss' = the task loss; 'output' = Σ read outputs (NTK)."""
        return task_loss(self.ctx, out, y) if objective == "loss" else task_output(self.ctx, out).sum()


def per_sample_network(ctx: ProxyContext) -> PerSampleNetwork:
    return ctx.shared("per_sample_network", lambda: PerSampleNetwork(ctx))


def check_per_sample_signal(ctx: ProxyContext) -> None:
    """Refuse (``UnsupportedNetwork``) before any per-sample gradient when every input gives the same output.

    A forward pass costs a fraction of the gradients, and the verdict is remembered, so the
    per-sample proxies (gradsign, ntk_cond_ps) refuse such a network without computing them.
    """
    verdict = ctx.shared("per_sample_signal", lambda: _input_blind_reason(ctx))
    if verdict:
        raise UnsupportedNetwork(verdict)


def per_sample_blocks(ctx: ProxyContext, objective: str) -> Iterator[torch.Tensor]:
    """Per-sample gradients of conv/linear weights as column blocks (batch, n_block), in weight order.

    ``objective`` 'loss' = the task loss of the sample; 'output' = sum of its outputs (NTK).
    vmap and the loop give one block (all weights); the gathered path one block per weight, so
    its peak memory is the largest layer's block, not batch x all weights (NB-NLP: 64 x 4M for
    the tied decoder instead of 64 x 10.1M on the second cell of the sample).
    """
    check_per_sample_signal(ctx)
    net = per_sample_network(ctx)
    if not net.loop:
        yield _vmapped(net, objective)
        return
    gathered = _Gathered.build(net, objective)
    if gathered is not None:
        last = len(ctx.batch.x) - 1
        exact = _looped(net, objective, [last])[0]
        mine = torch.cat([gathered.block(name, last).reshape(-1) for name in net.weight_names])
        if _batched_matches(mine, exact, GATHERED_RTOL):
            for name in net.weight_names:
                yield gathered.block(name).reshape(len(ctx.batch.x), -1)
            return
        gathered = None  # a batch-coupled network or a weight used outside its module: the loop is exact
    yield _looped(net, objective, range(len(ctx.batch.x)))


def _vmapped(net: PerSampleNetwork, objective: str) -> torch.Tensor:
    def objective_fn(weights: dict, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return net.objective(objective, net.output(weights, x), y.unsqueeze(0))

    batch = net.ctx.batch
    weights = {n: net.params[n] for n in net.weight_names}
    per_sample = vmap(grad(objective_fn), in_dims=(None, 0, 0))(weights, batch.x, batch.y)
    return torch.cat([per_sample[n].reshape(len(batch.x), -1) for n in net.weight_names], dim=1)


def _looped(net: PerSampleNetwork, objective: str, samples: Iterable[int]) -> torch.Tensor:
    """Rows of the given samples, one plain backward each (autograd accumulates a reused weight in place)."""
    batch = net.ctx.batch
    samples = list(samples)
    leaves = [net.params[n].detach().requires_grad_(True) for n in net.weight_names]  # views, no copy
    named = dict(zip(net.weight_names, leaves, strict=True))
    # one (rows, n_weights) tensor filled row by row: a list of rows stacked at the end held the
    # gradients twice (2 x 2.8 GB on an NB-NLP cell at batch 64)
    rows = torch.empty((len(samples), sum(w.numel() for w in leaves)), dtype=net.dtype, device=batch.x.device)
    for row, i in zip(rows, samples, strict=True):
        out = net.output(named, batch.x[i])
        # a weight the output does not use gets zeros, as torch.func.grad gives it under vmap
        grads = torch.autograd.grad(net.objective(objective, out, batch.y[i:i + 1]), leaves, allow_unused=True,
                                    materialize_grads=True)
        torch.cat([g.reshape(-1) for g in grads], out=row)
    return rows


class _UseRecorder:
    """Forward hooks that keep, for every call of the given modules, its input and output."""

    def __init__(self, modules: list[nn.Module]) -> None:
        self.uses: dict[int, list[tuple[torch.Tensor, torch.Tensor]]] = {id(m): [] for m in modules}
        self.handles = [m.register_forward_hook(self._hook) for m in modules]

    def _hook(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        self.uses[id(module)].append((inputs[0].detach(), output))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


class _Gathered:
    """One batched backward to the outputs of a network's Linear/Embedding calls (module docstring).

    Keeps each call's input and output gradient (activation-sized); ``block`` turns them into
    per-sample weight gradients one weight at a time.
    """

    def __init__(self, net: PerSampleNetwork, owners: dict[int, list[nn.Module]],
                 uses: dict[int, tuple[torch.Tensor, torch.Tensor]]) -> None:
        self.net = net
        self.owners = owners
        self.uses = uses
        self.params = dict(net.model.named_parameters())

    @classmethod
    def build(cls, net: PerSampleNetwork, objective: str) -> _Gathered | None:
        """None where a scored weight is outside a Linear/Embedding or a layer is not called batch-first."""
        batch = net.ctx.batch
        n = len(batch.x)
        params = dict(net.model.named_parameters())
        owners: dict[int, list[nn.Module]] = {}  # a weight's modules (a tied weight: an embedding and a decoder)
        for m in net.model.modules():
            if isinstance(m, nn.Linear) or (isinstance(m, nn.Embedding) and _plain_lookup(m)):
                owners.setdefault(id(m.weight), []).append(m)
        if any(id(params[name]) not in owners for name in net.weight_names):
            return None
        modules = list({id(m): m for name in dict.fromkeys(net.weight_names) for m in owners[id(params[name])]}.values())
        recorder = _UseRecorder(modules)
        try:
            out = net.model(net.inputs())
        finally:
            recorder.remove()
        calls = [(id(m), a, o) for m in modules for a, o in recorder.uses[id(m)]]
        if not calls or any(a.shape[:1] != (n,) for _, a, _ in calls) or not isinstance(out, torch.Tensor):
            return None  # a layer called without the batch first (no layout to read), or a structured output
        # unbind, not slicing: its backward stacks the samples' gradients once (64 slices of an NB-NLP
        # cell's 180 MB logits each back-propagated a full-size zero-padded gradient: the backward
        # took 7.6 s instead of 1.0 s)
        total = sum(net.objective(objective, o.unsqueeze(0), y.unsqueeze(0))
                    for o, y in zip(out.unbind(0), batch.y.unbind(0), strict=True))
        out_grads = torch.autograd.grad(total, [o for _, _, o in calls], allow_unused=True, materialize_grads=True)
        inputs: dict[int, list[torch.Tensor]] = {id(m): [] for m in modules}
        grads: dict[int, list[torch.Tensor]] = {id(m): [] for m in modules}
        for (key, a, _), g in zip(calls, out_grads, strict=True):
            inputs[key].append(a.reshape(n, -1) if a.dtype == torch.long else a.reshape(n, -1, a.shape[-1]))
            grads[key].append(g.reshape(n, -1, g.shape[-1]))
        # every call of a module side by side along positions: a recurrent layer's 70 steps become
        # one (out x 70) @ (70 x in) product per sample instead of 70 rank-one updates
        uses = {key: (torch.cat(inputs[key], dim=1), torch.cat(grads[key], dim=1)) for key in inputs if inputs[key]}
        return cls(net, owners, uses)

    def block(self, name: str, sample: int | None = None) -> torch.Tensor:
        """Per-sample gradients of weight ``name``: (batch, *shape), or (1, *shape) for one ``sample``."""
        weight = self.params[name]
        n = len(self.net.ctx.batch.x)
        rows = range(n) if sample is None else [sample]
        blocks = torch.zeros((len(rows), *weight.shape), dtype=self.net.dtype, device=weight.device)
        for m in self.owners[id(weight)]:
            if id(m) not in self.uses:  # never called (a dead node of an NB-NLP recipe): zero gradient
                continue
            a, g = self.uses[id(m)]
            for k, i in enumerate(rows):  # per sample into its block: no (batch, out, in) temporary
                if isinstance(m, nn.Embedding):
                    blocks[k].index_add_(0, a[i], g[i])  # each looked-up row gets its output gradient
                else:
                    blocks[k].addmm_(g[i].T, a[i])  # Σ over positions of g ⊗ a
        return blocks


def _plain_lookup(embedding: nn.Embedding) -> bool:
    """An embedding whose weight gradient is a plain scatter of the output gradient."""
    return embedding.padding_idx is None and embedding.max_norm is None and not embedding.scale_grad_by_freq


def _spread_from_first(outputs: torch.Tensor) -> tuple[float, int]:
    """(max_i |f(x_i) - f(x_0)| / max |f|, the i that attains it)."""
    differences = (outputs - outputs[:1]).flatten(1).abs().amax(1)
    scale = float(outputs.abs().max())
    return (float(differences.max()) / scale if scale else 0.0), int(differences.argmax())


def _input_blind_reason(ctx: ProxyContext) -> str:
    """Why per-sample proxies cannot score this network ('' if they can): its inputs all give the same output.

    A BatchNorm with one sample's statistics followed by global average pooling (TransNAS-Bench-101's
    classification, room-layout and jigsaw heads: the encoder ends in a BatchNorm) pools every
    channel to its shift, whatever the image; the per-sample gradients of the weights before it are
    then zero up to rounding, and a score built from them would rank rounding noise. Checked in
    float32 first and, where the float32 outputs are close, again in float64.
    """
    if len(ctx.batch.x) < 2:
        return ""
    spread, farthest = _spread_from_first(per_sample_network(ctx).outputs())
    if spread > CLEARLY_DIFFERENT:
        return ""
    # the spread is the largest difference from the first sample, so float64 needs only the first
    # sample and the one farthest from it in float32, not the whole batch
    spread, _ = _spread_from_first(PerSampleNetwork(ctx, torch.float64).outputs([0, max(farthest, 1)]))
    if spread <= SAME_OUTPUT_RTOL:
        return (f"with per-sample normalisation every input gives the same output up to float64 rounding (relative spread "
                f"{spread:.1e}), e.g. BatchNorm over one sample then global pooling: per-sample gradients are rounding noise")
    return ""

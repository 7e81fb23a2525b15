"""GenNAS regression on recurrent networks (paper Sec. 3.1.1 "Regression on RNNs", Fig. 2b).

Many-to-many: a synthetic input tensor l x b x d -> linear encoder (d -> the network's input
width) -> the network's recurrent layers (word embedding and word classifier removed) -> linear
decoder (last layer's width -> d) -> MSE against a synthetic target tensor l x b x d. Trained
with Adam for the task's iterations on that one batch; the score is the MSE after training in
eval mode (lower is better). Facts from the public code (leeyeehoo/GenNAS):

- ``builder_task.py`` ``NLPTask``: input and target are both synthetic signal tensors (the
  config's layer '0' and layer '1'), built once, b x l x d maps permuted to l x b x d, fresh
  input noise per forward pass; sin maps are drawn on a max(l, d) square and cropped to l x d
  (``utils/tricks.py`` ``generate_wave``), Dot sets ``int(k * l * d)`` pixels of the l x d map.
- ``model_wrapper.py`` ``NBNLPWrapper``: encoder ``Linear(d, emsize)`` and decoder
  ``Linear(emsize, d)``, both weights U(-0.1, 0.1), decoder bias 0, zero initial hidden states.
- ``builder_evaluator.py`` ``evaluate_nlp``: Adam over all parameters, lr ``--learning_rate``,
  weight decay the NB-NLP log's ``wdecay``; plain MSE; the score ``do_search.py`` reads is the
  last eval loss. Difference: the public code's network keeps the NB-NLP training dropouts
  (locked dropout between layers, weight drop) active in train mode; our adapter's network has
  no dropout, so training here is deterministic. A task with ``"network": {"dropouts":
  "official"}`` trains that network instead (``adapters/nbnlp/network.py`` ``Dropouts``); its
  dropout masks are drawn from torch's generator seeded with the run seed (``fork_rng``, so the
  caller's random state is untouched).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.gennas import signals
from nasproxy_bench.gennas.rnn_task import RnnTask
from nasproxy_bench.gennas.task import Base


def rnn_base_maps(base: Base, batch: int, length: int, dimension: int, gen: torch.Generator) -> torch.Tensor:
    """One base: ``batch`` independent length x dimension maps (b x l x d), times its level."""
    side = max(length, dimension)
    if base.kind == "sin1d":
        maps = signals.sin1d(batch, base.freqs, gen, axis=base.axis, phase=base.phase, size=side)[:, :length, :dimension]
    elif base.kind == "sin2d":
        maps = signals.sin2d(batch, base.freqs, gen, phase=base.phase, size=side)[:, :length, :dimension]
    elif base.kind == "dot":
        maps = signals.dot(batch, base.fraction, gen, size=length, width=dimension)
    elif base.kind == "gdot":
        maps = signals.gdot(batch, base.fraction, gen, size=length, width=dimension)
    elif base.kind == "zero":
        maps = torch.zeros(batch, length, dimension)
    else:
        raise ValueError(f"signal base {base.kind!r} has no RNN form")
    return maps.contiguous() * base.level


def sequence_tensor(bases: tuple[Base, ...], task: RnnTask, gen: torch.Generator) -> torch.Tensor:
    """The sum of ``bases``, as an l x b x d tensor (maps stacked along the batch dimension)."""
    total = sum(rnn_base_maps(b, task.batch, task.length, task.dimension, gen) for b in bases)
    return total.permute(1, 0, 2).contiguous()


def recurrent_input_width(net: nn.Module) -> int:
    """Width of the vectors the network's first recurrent layer reads (its word-embedding width)."""
    embedding = getattr(net, "embedding", None)
    if not callable(getattr(net, "hidden_outputs", None)) or not isinstance(embedding, nn.Embedding):
        raise UnsupportedNetwork(f"{type(net).__name__} is not a recurrent language model (no embedding + hidden_outputs)")
    return embedding.embedding_dim


def make_codecs(dimension: int, width_in: int, width_out: int, seed: int) -> tuple[nn.Linear, nn.Linear]:
    """Encoder d -> width_in and decoder width_out -> d, initialised as the public code's wrapper."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        encoder, decoder = nn.Linear(dimension, width_in), nn.Linear(width_out, dimension)
        nn.init.uniform_(encoder.weight, -0.1, 0.1)
        nn.init.uniform_(decoder.weight, -0.1, 0.1)
        nn.init.zeros_(decoder.bias)
    return encoder, decoder


class RnnRegressor:
    """A recurrent network plus its encoder/decoder, bound to one RNN task and seed."""

    def __init__(self, net: nn.Module, task: RnnTask, seed: int, device: torch.device | str = "cpu") -> None:
        width_in = recurrent_input_width(net)
        was_training = net.training
        net.eval()  # a shape probe: no dropout draws
        with torch.no_grad():
            width_out = int(net.hidden_outputs(torch.zeros(1, 1, width_in, device=device))[-1].shape[-1])
        net.train(was_training)
        self.net, self.task = net, task
        self.encoder, self.decoder = (m.to(device) for m in make_codecs(task.dimension, width_in, width_out, seed))
        self.gen = torch.Generator().manual_seed(seed)
        self.inputs = sequence_tensor(task.input, task, self.gen).to(device)
        self.targets = sequence_tensor(task.target, task, self.gen).to(device)

    def _modules(self) -> list[nn.Module]:
        return [self.net, self.encoder, self.decoder]

    def loss(self) -> torch.Tensor:
        task = self.task
        x = self.inputs
        if task.noise_type != "none" and task.noise_level > 0:
            x = x + signals.noise(tuple(x.shape), task.noise_type, task.noise_level, self.gen).to(x.device)
        hidden = self.net.hidden_outputs(self.encoder(x))[-1]
        return F.mse_loss(self.decoder(hidden), self.targets)

    def train(self) -> None:
        t = self.task.training
        params = [p for m in self._modules() for p in m.parameters()]
        optimizer = torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
        for module in self._modules():
            module.train()
        for _ in range(t.iterations):
            optimizer.zero_grad(set_to_none=True)
            self.loss().backward()
            optimizer.step()

    def evaluate(self) -> float:
        for module in self._modules():
            module.eval()
        with torch.no_grad():
            value = float(self.loss())
        return value if math.isfinite(value) else math.inf


def rnn_regression_score(net: nn.Module, task: RnnTask, seed: int, device: torch.device | str = "cpu") -> float:
    """Train ``net`` (modified in place: pass a copy) on the RNN ``task`` and return the eval MSE."""
    regressor = RnnRegressor(net, task, seed, device)
    with torch.random.fork_rng(devices=[device] if torch.device(device).type == "cuda" else []):
        torch.manual_seed(seed)  # dropout masks (a network with training dropouts); no other draws happen here
        regressor.train()
    return regressor.evaluate()

"""The NAS-Bench-NLP language model built from a recepie (our code, the official model's shapes).

Official setting (``main_one_model_train.py`` of fmsnew/nas-bench-nlp-release, recorded in
every log): embedding 400, 3 recurrent layers of hidden width 600 except the last (400, so
the decoder can share the embedding matrix: tied weights), vocabulary 10,000 on PTB
(33,278 on WikiText-2), bptt 70, batch 20.

- Every layer is the same cell, unrolled over time from zero hidden states; a layer's output
  at step t is its ``h_new_0``.
- A ``linear`` node holds one ``nn.Linear`` per input (the first with the bias), so its
  parameter count equals the official ``MultiLinear`` and gradient proxies see every weight.
- The decoder is an ``nn.Linear(400, vocab)`` whose weight *is* the embedding matrix.
- Initialisation as the official code: cell parameters U(±1/√hidden), embedding (= decoder
  weight) U(±0.1), decoder bias 0.
- The official training's dropouts (locked, embedding, weight drop) are training noise, not
  architecture: they are left out, so a proxy sees a deterministic network. ``Dropouts``
  puts them back for protocols that train with them (``Benchmark.build_variant(...,
  dropouts="official")``, GenNAS's RNN regression as its public code runs it, below).

``forward(tokens)`` takes (batch, time) ids and returns (batch, time, vocab) logits.
``hidden_outputs(embedded)`` runs only the recurrent layers on a (time, batch, 400) tensor and
returns their per-step outputs: the word classifier removed, as GenNAS's RNN regression needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nasproxy_bench.adapters.nbnlp.arch import Recepie

EMBEDDING = 400
HIDDEN = 600
LAYERS = 3
VOCAB = {"ptb": 10_000, "wikitext2": 33_278}
BPTT = 70
BATCH_SIZE = 20


@dataclass(frozen=True)
class Dropouts:
    """Training-mode dropouts of the official model (no effect in eval mode).

    ``between``: locked dropout (one mask per sequence, shared over time) on each recurrent
    layer's output but the last; ``output``: the same on the last layer's output; ``weight``:
    dropout on the weights a linear node applies to its non-``x`` inputs (hidden states and
    intermediate nodes). ``train_dropped_weights=False`` keeps those weights at their
    initial values: the ``ParameterListWeightDrop`` of GenNAS's copy of the model
    (``pynbs/nasbenchnlp/weight_drop.py``; the release's ``model.py`` imports a class of that
    name, whose file we have not seen) wraps each dropped weight in a new ``nn.Parameter``,
    which cuts the graph, so they never receive a gradient.
    """

    between: float = 0.0
    output: float = 0.0
    weight: float = 0.0
    train_dropped_weights: bool = True


# The official training's settings, identical in every log (dropouth 0.25, dropout 0.1, wdrop 0.1;
# the embedding dropouts dropouti/dropoute act on the word embedding, which GenNAS replaces by its
# encoder), with the weight drop's gradient cut, as GenNAS's vendored copy of the model
# (pynbs/nasbenchnlp/weight_drop.py) applies it.
OFFICIAL_DROPOUTS = Dropouts(between=0.25, output=0.1, weight=0.1, train_dropped_weights=False)
NO_DROPOUTS = Dropouts()


def locked_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout of a (time, batch, features) tensor with one mask per sequence, shared over time."""
    if not training or p == 0.0:
        return x
    mask = x.new_empty(1, x.shape[1], x.shape[2]).bernoulli_(1.0 - p) / (1.0 - p)
    return x * mask


class LinearNode(nn.Module):
    """Σ_i W_i · input_i + b: one ``nn.Linear`` per input, the bias on the first.

    ``dropped[i]``: input i's weight gets the weight dropout of ``dropouts`` (non-``x`` inputs).
    """

    def __init__(self, input_widths: list[int], width: int, dropped: list[bool] | None = None,
                 dropouts: Dropouts = NO_DROPOUTS) -> None:
        super().__init__()
        self.parts = nn.ModuleList(nn.Linear(w, width, bias=(i == 0)) for i, w in enumerate(input_widths))
        self.dropped = tuple(dropped or [False] * len(input_widths))
        self.dropouts = dropouts

    def sequence_weights(self) -> list[torch.Tensor] | None:
        """The weights one forward pass over a sequence uses: one weight-dropout draw for all its
        time steps (as the official weight drop, which resets the weights once per call of the
        layer); None when nothing is dropped or detached (eval mode, no weight dropout)."""
        d = self.dropouts
        if not self.training or not any(self.dropped) or (d.weight == 0.0 and d.train_dropped_weights):
            return None
        weights = []
        for part, dropped in zip(self.parts, self.dropped, strict=True):
            w = part.weight
            if dropped:
                w = F.dropout(w if d.train_dropped_weights else w.detach(), d.weight, training=True)
            weights.append(w)
        return weights

    def forward(self, *inputs: torch.Tensor, weights: list[torch.Tensor] | None = None) -> torch.Tensor:
        if weights is None:
            out = self.parts[0](inputs[0])
            for part, x in zip(self.parts[1:], inputs[1:], strict=True):
                out = out + part(x)
            return out
        out = F.linear(inputs[0], weights[0], self.parts[0].bias)
        for w, x in zip(weights[1:], inputs[1:], strict=True):
            out = out + F.linear(x, w)
        return out


ACTIVATIONS = {"activation_tanh": nn.Tanh, "activation_sigm": nn.Sigmoid, "activation_leaky_relu": nn.LeakyReLU}


class RecurrentCell(nn.Module):
    """One time step of a recepie: (x_t, hidden states) → new hidden states."""

    def __init__(self, recepie: Recepie, input_size: int, hidden_size: int, dropouts: Dropouts = NO_DROPOUTS) -> None:
        super().__init__()
        self.recepie = recepie
        self.hidden_size = hidden_size
        self.order = recepie.topological_order()
        widths = recepie.linear_input_widths(input_size, hidden_size)
        # ModuleDict keys are the original node names (the canonical order only fixes evaluation order)
        self.linears = nn.ModuleDict({
            name: LinearNode(w, hidden_size, [i != "x" for i in recepie.nodes[name].inputs], dropouts)
            for name, w in widths.items()
        })
        self.activations = nn.ModuleDict(
            {name: ACTIVATIONS[node.op]() for name, node in recepie.nodes.items() if node.op in ACTIVATIONS}
        )

    @property
    def hidden_tuple_size(self) -> int:
        return self.recepie.hidden_tuple_size

    def sequence_weights(self) -> dict[str, list[torch.Tensor] | None]:
        """Each linear node's weights for one pass over a sequence (``LinearNode.sequence_weights``)."""
        return {name: node.sequence_weights() for name, node in self.linears.items()}

    def forward(self, x: torch.Tensor, hidden: tuple[torch.Tensor, ...],
                weights: dict[str, list[torch.Tensor] | None] | None = None) -> tuple[torch.Tensor, ...]:
        values: dict[str, torch.Tensor] = {"x": x}
        values.update({f"h_prev_{i}": h for i, h in enumerate(hidden)})
        for name in self.order:
            node = self.recepie.nodes[name]
            args = [values[i] for i in node.inputs]
            if node.op == "linear":
                values[name] = self.linears[name](*args, weights=weights[name] if weights is not None else None)
            elif node.op in ACTIVATIONS:
                values[name] = self.activations[name](args[0])
            elif node.op == "elementwise_sum":
                values[name] = args[0] + args[1]
            elif node.op == "elementwise_prod":
                values[name] = args[0] * args[1]
            else:  # blend
                values[name] = args[0] * args[1] + (1 - args[0]) * args[2]
        return tuple(values[f"h_new_{i}"] for i in range(self.hidden_tuple_size))


class RecurrentLayer(nn.Module):
    """A cell unrolled over the time axis of a (time, batch, features) input from zero states."""

    def __init__(self, recepie: Recepie, input_size: int, hidden_size: int, dropouts: Dropouts = NO_DROPOUTS) -> None:
        super().__init__()
        self.cell = RecurrentCell(recepie, input_size, hidden_size, dropouts)
        self.hidden_size = hidden_size

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        zeros = inputs.new_zeros(inputs.shape[1], self.hidden_size)
        hidden = tuple(zeros for _ in range(self.cell.hidden_tuple_size))
        weights = self.cell.sequence_weights()  # one weight-dropout draw per sequence (all None: the plain network)
        outputs = []
        for x in inputs.unbind(0):
            hidden = self.cell(x, hidden, weights)
            outputs.append(hidden[0])
        return torch.stack(outputs, dim=0)


class RecurrentLM(nn.Module):
    """Embedding → ``LAYERS`` recurrent layers of the recepie's cell → tied decoder."""

    # Per-sample gradient proxies loop over the sequences instead of vmapping them: under vmap every
    # time step keeps its own per-sample weight gradient (one cell: 4.8 GB peak with one sequence at a
    # time; all 16 at once did not fit under a 9 GB cap); the loop gives the same values (checked).
    per_sample_loop = True

    def __init__(self, recepie: Recepie, vocab_size: int, *, embedding: int = EMBEDDING, hidden: int = HIDDEN,
                 layers: int = LAYERS, dropouts: Dropouts = NO_DROPOUTS) -> None:
        super().__init__()
        self.recepie = recepie
        self.dropouts = dropouts
        self.embedding = nn.Embedding(vocab_size, embedding)
        widths = [hidden] * (layers - 1) + [embedding]  # tied weights: the last layer outputs the embedding width
        inputs = [embedding, *widths[:-1]]
        self.layers = nn.ModuleList(RecurrentLayer(recepie, i, w, dropouts) for i, w in zip(inputs, widths, strict=True))
        self.decoder = nn.Linear(embedding, vocab_size)
        self.decoder.weight = self.embedding.weight
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in self.layers:
            bound = 1.0 / math.sqrt(layer.hidden_size)
            for p in layer.parameters():
                nn.init.uniform_(p, -bound, bound)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def hidden_outputs(self, embedded: torch.Tensor) -> list[torch.Tensor]:
        """Per-step outputs of every recurrent layer for a (time, batch, embedding) input.

        No embedding lookup and no decoder: the "word classifier removed" network of GenNAS's RNN
        regression (a random l x b x d input in, an l x b x d output from the last layer).
        Returns one (time, batch, width) tensor per layer, the last of width ``embedding``; with
        ``dropouts``, in train mode, each after its locked dropout (as the official model feeds them on).
        """
        outputs = []
        h = embedded
        for k, layer in enumerate(self.layers):
            last = k == len(self.layers) - 1
            h = locked_dropout(layer(h), self.dropouts.output if last else self.dropouts.between, self.training)
            outputs.append(h)
        return outputs

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """(batch, time) token ids → (batch, time, embedding) vectors (``networks.EmbeddedInput``).

        Ids given as floats (generic probes such as ``count_flops`` pass zeros) are rounded.
        """
        if tokens.is_floating_point():
            tokens = tokens.round().long()
        return self.embedding(tokens)

    def forward_embedded(self, embedded: torch.Tensor) -> torch.Tensor:
        """(batch, time, embedding) vectors → (batch, time, vocab) logits."""
        last = self.hidden_outputs(embedded.transpose(0, 1))[-1]  # layers run (time, batch, features)
        return self.decoder(last.transpose(0, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """(batch, time) token ids → (batch, time, vocab) logits."""
        return self.forward_embedded(self.embed(tokens))


def official_param_count(recepie: Recepie, vocab_size: int, *, embedding: int = EMBEDDING, hidden: int = HIDDEN,
                         layers: int = LAYERS) -> int:
    """Parameters by formula (no network built): embedding (shared with the decoder) + decoder bias + cells."""
    widths = [hidden] * (layers - 1) + [embedding]
    inputs = [embedding, *widths[:-1]]
    total = vocab_size * embedding + vocab_size
    for size_in, width in zip(inputs, widths, strict=True):
        for input_widths in recepie.linear_input_widths(size_in, width).values():
            total += width * sum(input_widths) + width
    return total


__all__ = ["RecurrentLM", "RecurrentCell", "LinearNode", "official_param_count", "VOCAB", "BPTT", "BATCH_SIZE"]

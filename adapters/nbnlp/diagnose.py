"""Why grad_norm and snip hardly rank NB-NLP cells: an experiment on the proxy run's own networks.

For each cell of the seeded sample, on the same initialised network and PTB batch as
``nasproxy-bench run --benchmark nbnlp --dataset ptb --batch-size B`` (init seed 0), we record

- ``h_abs``: the mean |output| of the last recurrent layer (what the tied decoder reads);
- ``dead``: whether that output is exactly zero everywhere (the cell ignores its input from
  the zero initial state, e.g. its output is a product with the previous hidden state);
- grad_norm split into the tied decoder/embedding weight and the recurrent cells' linears, and
  snip split the same way.

and print signed Spearman ρ (positive = ranks better cells higher) of every quantity with the
final test log-perplexity, over all cells and over the cells that are not dead.

``python -m nasproxy_bench.adapters.nbnlp.diagnose N [BATCH]`` (data root from ``$NASPROXY_DATA``).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from torch import nn

from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.registry import get_benchmark
from nasproxy_bench.runner import build_model, task_batches


def cell_terms(model: nn.Module, tokens: torch.Tensor, targets: torch.Tensor, loss_fn) -> dict[str, float]:
    """Output magnitude and the decoder / cell parts of grad_norm and snip for one network."""
    model.zero_grad()
    embedded = model.embed(tokens)
    last = model.hidden_outputs(embedded.transpose(0, 1))[-1]
    logits = model.decoder(last.transpose(0, 1))
    loss_fn(logits, targets).backward()
    cells = [m for m in model.layers.modules() if isinstance(m, nn.Linear)]

    def grad_norm(layers: list[nn.Module]) -> float:
        return float(sum(m.weight.grad.norm() for m in layers if m.weight.grad is not None))

    def snip(layers: list[nn.Module]) -> float:
        return float(sum((m.weight.detach() * m.weight.grad).abs().sum() for m in layers if m.weight.grad is not None))

    h_abs = float(last.detach().abs().mean())
    return {
        "h_abs": h_abs, "dead": h_abs == 0.0,
        "grad_norm_decoder": grad_norm([model.decoder]), "grad_norm_cells": grad_norm(cells),
        "snip_decoder": snip([model.decoder]), "snip_cells": snip(cells),
    }


def diagnose(n: int, batch_size: int = 16, seed: int = 0) -> pd.DataFrame:
    root = resolve_data_root(None)
    bench = get_benchmark("nbnlp")(root)
    dataset = bench.dataset("ptb")
    batch = task_batches(dataset, root, seed, batch_size, 1)[0]
    truth = bench.ground_truth("ptb")
    rows = {}
    for arch in bench.sample(n, 0):
        model = build_model(bench, arch, "ptb", seed, torch.device("cpu"))
        rows[arch] = {**cell_terms(model, batch.x, batch.y, dataset.task_io.loss), "test_logppl": float(truth[arch])}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame["grad_norm"] = frame["grad_norm_decoder"] + frame["grad_norm_cells"]
    frame["snip"] = frame["snip_decoder"] + frame["snip_cells"]
    return frame


def correlations(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["grad_norm", "grad_norm_decoder", "grad_norm_cells", "snip", "snip_decoder", "snip_cells", "h_abs"]
    alive = frame[~frame["dead"].astype(bool)]
    out = {}
    for column in columns:
        out[column] = {
            "spr_all": -spearmanr(frame[column], frame["test_logppl"])[0],
            "spr_not_dead": -spearmanr(alive[column], alive["test_logppl"])[0],
            "decoder_share": float((frame["grad_norm_decoder"] / frame["grad_norm"]).median()) if column == "grad_norm" else np.nan,
        }
    return pd.DataFrame(out).T


if __name__ == "__main__":
    torch.set_num_threads(1)
    frame = diagnose(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 16)
    dead = frame["dead"].astype(bool)
    print(f"n = {len(frame)}, dead (zero output) = {int(dead.sum())}, mean test log-ppl dead "
          f"{frame[dead]['test_logppl'].mean():.3f} vs others {frame[~dead]['test_logppl'].mean():.3f}")
    print(correlations(frame).to_string(float_format="%.3f"))
    print("grad_norm / h_abs rank agreement:", f"{spearmanr(frame['grad_norm'], frame['h_abs'])[0]:.3f}")

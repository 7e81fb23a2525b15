"""Does NASLib's choice of hooked activations explain a TransNAS naswot gap?

Usage: python docs/proxy_experiments/naswot_hooks.py SPACE TASK REFERENCE.csv N BATCH[,BATCH...] [OUT.csv]

Our naswot reads the encoder's ``nn.ReLU`` units (section "Tasks" of docs/proxies.md). NASLib's
``nwot`` measure hooks every module whose type name contains "ReLU" and runs the whole network, so
on TransNAS it also counts the decoder's ``LeakyReLU(0.2)`` units (the sign of their input). For
the first N architectures of TASK in REFERENCE.csv (``python -m nasproxy_bench.adapters.transnas.reference
SPACE``), at each batch size (seed 0; batch 8 is the documented runs' batch, 32 NASLib's; the
first 8 samples of the batch-32 draw are batch 8's), this computes log|det K| with K the ReLU-code
kernel over:

- ``encoder``: the encoder's ReLUs, encoder forward only (our naswot);
- ``naslib``: every ReLU and LeakyReLU of the network, full forward (NASLib's hook set).

Prints how many of NASLib's scores exceed 32 ln(units) of each hook set, which a log|det| over
those units at NASLib's batch of 32 cannot (Hadamard's inequality; K_ii = units), then the SPR of
each against the task's final-epoch validation metric of our table (as ``compare``) and the rank
agreement with NASLib's released ``nwot`` scores. The network of an architecture is the run's
(seed 0, train mode), the same for every variant.

An existing OUT.csv is resumed (its architectures are not scored again); with the environment
variable NASWOT_HOOKS_LIMIT=K only the first K architectures are scored, and the tables cover
those in OUT.csv.
"""
import math
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from surrogate_swap import SEED, reference_setup
from torch import nn

from nasproxy_bench.metrics import spearman
from nasproxy_bench.networks import encoder_module
from nasproxy_bench.runner import build_model, task_batches

HOOK_SETS = ("encoder", "naslib")


def code_kernels(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Both hook sets' kernels from one full forward pass: K_ij = units where samples i and j share
    the sign of an activation's input. The encoder's units see the same inputs as in ``encode``
    (the decoder runs after the encoder), so ``encoder`` is our naswot's kernel."""
    encoder_relus = {id(m) for m in encoder_module(model).modules() if isinstance(m, nn.ReLU)}
    kernels = {name: torch.zeros((len(x), len(x)), dtype=torch.float64) for name in HOOK_SETS}

    def add(module: nn.Module, inputs: tuple) -> None:
        code = (inputs[0] > 0).reshape(len(x), -1).float()
        counts = (code @ code.T + (1 - code) @ (1 - code).T).double()
        kernels["naslib"].add_(counts)
        if id(module) in encoder_relus:
            kernels["encoder"].add_(counts)

    handles = [m.register_forward_pre_hook(add) for m in model.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return kernels


def log_det(kernel: torch.Tensor) -> float:
    sign, value = torch.linalg.slogdet(kernel)
    return float(value) if sign > 0 else -math.inf


def main() -> None:
    space, task, reference_path, n, sizes = sys.argv[1:6]
    out_path = sys.argv[6] if len(sys.argv) > 6 else None
    limit = int(os.environ["NASWOT_HOOKS_LIMIT"]) if "NASWOT_HOOKS_LIMIT" in os.environ else None
    data_root, bench, dataset, reference = reference_setup(space, task, reference_path, n)
    archs = list(reference.index)
    batches = {int(b): task_batches(dataset, data_root, SEED, int(b), 1)[0].x for b in sizes.split(",")}
    rows = pd.read_csv(out_path).to_dict("records") if out_path and Path(out_path).exists() else []
    done = {row["arch"] for row in rows}
    for number, arch in enumerate(archs, start=1):
        if arch in done:  # resumed from OUT.csv
            continue
        if limit is not None and number > limit:
            break
        model = build_model(bench, arch, task, SEED, torch.device("cpu"))
        for size, x in batches.items():
            for hook_set, kernel in code_kernels(model, x).items():
                rows.append({"arch": arch, "batch": size, "hooks": hook_set, "score": log_det(kernel),
                             "units": float(kernel[0, 0])})
        print(f"{number}/{len(archs)}", file=sys.stderr, flush=True)
        if out_path:  # after every architecture, so a stopped run keeps what it scored
            pd.DataFrame(rows).to_csv(out_path, index=False)
    scores = pd.DataFrame(rows).pivot_table(index="arch", columns=["batch", "hooks"], values="score")
    archs = [a for a in archs if a in scores.index]  # all N, or those scored so far
    scores, reference = scores.reindex(archs), reference.reindex(archs)
    truth = bench.ground_truth(task).reindex(archs).to_numpy(dtype=float)  # final-epoch validation metric, as `compare`
    theirs = reference["nwot"].to_numpy(dtype=float)
    print(f"{space} {task}, first {len(archs)} architectures of the reference list, seed {SEED}; NASLib's SPR "
          f"{_agree(theirs, truth)}")
    print("| batch | hooks | SPR ours | agreement with NASLib | agreement with encoder, batch 8 |\n|---|---|---|---|---|")
    first = scores[(min(batches), "encoder")].to_numpy(dtype=float)
    units = pd.DataFrame(rows).pivot_table(index="arch", columns=["batch", "hooks"], values="units").reindex(archs)
    for hook_set in HOOK_SETS:  # Hadamard: log det K <= 32 ln(units), as K_ii = units
        bound = 32 * np.log(units[(min(batches), hook_set)].to_numpy(dtype=float))
        print(f"NASLib's nwot above 32 ln(units of {hook_set}), impossible for a batch-32 kernel over those units: "
              f"{int((theirs > bound).sum())} of {len(archs)}")
    for size in batches:
        for hook_set in HOOK_SETS:
            ours = scores[(size, hook_set)].to_numpy(dtype=float)
            print(f"| {size} | {hook_set} | {_agree(ours, truth)} | {_agree(ours, theirs)} | {_agree(ours, first)} |")


def _agree(a: np.ndarray, b: np.ndarray) -> str:
    ok = np.isfinite(a) & np.isfinite(b)
    return f"{spearman(a[ok], b[ok]):.3f} (n={ok.sum()})" if ok.sum() >= 3 else "–"


if __name__ == "__main__":
    main()

"""TE-NAS's own NTK code on our NB201 sample, next to our ntk_cond (issue 16).

For the first N architectures of the seeded sample (``sample(1000, seed 0)``, the order ``run --n 1000``
scores), this builds each cell with TE-NAS's supernet class (``TinyNetworkDarts``, C=3, N=1, the
other operations of every edge switched off with TE-NAS's -INF = -1000 alphas) and scores it with
TE-NAS's ``get_ntk_n``:

- ``tenas_code``: as TE-NAS's code runs (PyTorch default init: the launcher's init name matches no
  branch of ``init_model``; the 3 repeats reuse the weights and draw a new shuffled batch of 72
  training images with RandomHorizontalFlip + RandomCrop(32, padding=4)); mean of the 3 κ;
- ``tenas_net_our_batch``: TE-NAS's network and function, our run's fixed batch (seed 0, batch 72),
  3 fresh initialisations (our protocol on their code); mean of the 3 κ;
- for the first 5: TE-NAS's network and ours (``Benchmark.build_resized``) with identical weights:
  logits difference and κ from both codes.

Our scores come from a store of ``run --proxies ntk_cond --batch-size 72`` (read only).

TE-NAS's ``lib/procedures/ntk.py`` calls ``.cuda()`` and ``torch.symeig`` (removed in torch 1.13). On
a CPU-only machine point ``--tenas`` at a scratch copy of the checkout in which those calls run on
the CPU (``.to(device)`` with ``device = "cpu"``, ``torch.linalg.eigvalsh``); the script says so if
they fail. Nothing of TE-NAS is part of this repository.

Usage (1 thread, under shared load ~35 s per architecture):
  NASPROXY_DATA=/work/shared nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python \
      docs/proxy_experiments/tenas_ntk_compare.py --tenas /path/to/TENAS --store results/ntk.h5 --n 60 --out results/tenas60.csv
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau, spearmanr

from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.inputs import MEAN_STD, load_images
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.proxies.gradient import NTK_REPEATS, _condition_number, _output_row_grads_batch_coupled
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.runner import task_batches
from nasproxy_bench.store import ResultStore, RunKey

EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
TENAS_BATCH = 72  # prune_launch.py: batch_size = 72
TENAS_OFF = -1000.0  # prune_tenas.py: INF = 1000 marks pruned operators


def load_tenas(tenas_dir: Path) -> tuple[type, list[str], ModuleType]:
    """TE-NAS's supernet class, its NB201 operation list and its ntk module, from a checkout."""
    lib = tenas_dir / "lib"
    ntk_file = lib / "procedures" / "ntk.py"
    if not ntk_file.is_file():
        raise NasproxyError(f"{tenas_dir} is not a TE-NAS checkout (no lib/procedures/ntk.py); fetch VITA-Group/TENAS")
    sys.path.insert(0, str(lib))
    from models.cell_operations import NAS_BENCH_201  # type: ignore[import-not-found]
    from models.cell_searchs.search_model_darts import TinyNetworkDarts  # type: ignore[import-not-found]

    spec = importlib.util.spec_from_file_location("tenas_ntk", ntk_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return TinyNetworkDarts, list(NAS_BENCH_201), module


def tenas_network(supernet: type, op_names: list[str], ops: list[str], seed: int) -> torch.nn.Module:
    """The cell as TE-NAS scores a single path: C=3, N=1 supernet, every other operation at -INF."""
    torch.manual_seed(seed)
    net = supernet(3, 1, 4, 10, op_names, True, True, -1, True)  # model_config of prune_tenas.py
    alphas = torch.full((len(EDGES), len(op_names)), TENAS_OFF)
    for (node, source), op in zip(EDGES, ops, strict=True):
        alphas[net.edge2index[f"{node}<-{source}"], op_names.index(op)] = 0.0
    net.set_alphas([alphas])
    return net.train()


def tenas_loader_batch(images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One shuffled batch of TE-NAS's CIFAR-10 training loader: flip, RandomCrop(32, padding=4), normalise."""
    idx = torch.randperm(len(images), generator=gen)[:TENAS_BATCH]
    padded = torch.nn.functional.pad(images[idx], (4, 4, 4, 4))
    out = torch.empty((TENAS_BATCH, 3, 32, 32))
    for k in range(TENAS_BATCH):
        i, j = torch.randint(0, 9, (2,), generator=gen).tolist()
        crop = padded[k, :, i:i + 32, j:j + 32]
        out[k] = crop.flip(-1) if torch.rand(1, generator=gen).item() < 0.5 else crop
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in MEAN_STD["cifar10"])
    return (out - mean) / std


def tenas_kappa(ntk: ModuleType, net: torch.nn.Module, x: torch.Tensor) -> float:
    """TE-NAS's get_ntk_n on one batch (train mode, one batch), with a one-line error where it cannot run."""
    try:
        return float(ntk.get_ntk_n([(x, None)], [net], train_mode=True, num_batch=1)[0])
    except (AssertionError, AttributeError, RuntimeError) as exc:
        raise NasproxyError(f"TE-NAS's get_ntk_n failed ({str(exc).splitlines()[0]}); on a CPU-only machine use a copy of "
                            "lib/procedures/ntk.py whose .cuda() calls run on the CPU and whose symeig is torch.linalg.eigvalsh") from None


class Logits(torch.nn.Module):
    """TE-NAS's network returns (features, logits); our κ code reads the logits."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)[1]


def copy_weights(theirs: torch.nn.Module, ours: torch.nn.Module, op_names: list[str], ops: list[str]) -> None:
    """Copy TE-NAS's parameters of the chosen operations into our network (same module order)."""
    chosen = tuple(f"cells.{c}.edges.{n}<-{s}.{op_names.index(op)}." for c in (0, 2, 4) for (n, s), op in zip(EDGES, ops, strict=True))
    source = [p for name, p in theirs.named_parameters()
              if name != "arch_parameters" and (".edges." not in name or name.startswith(chosen))]
    target = list(ours.parameters())
    if [p.shape for p in source] != [p.shape for p in target]:
        raise NasproxyError("TE-NAS's and our probe network have different parameter shapes")
    with torch.no_grad():
        for s, t in zip(source, target, strict=True):
            t.copy_(s)


def score(args: argparse.Namespace) -> pd.DataFrame:
    supernet, op_names, ntk = load_tenas(args.tenas)
    root = Path(os.environ.get("NASPROXY_DATA", "/work/shared"))
    bench = open_benchmark("nb201", root)
    dataset = bench.dataset("cifar10")
    archs = bench.sample(1000, 0)[: args.n]
    accuracy = bench.ground_truth("cifar10")
    ours = {a: r.score for a, r in ResultStore(args.store).done(RunKey("nb201", "cifar10", "ntk_cond", "2", 0, TENAS_BATCH, 0)).items()}
    batch = task_batches(dataset, root, 0, TENAS_BATCH, 1)[0]
    images = torch.from_numpy(load_images(root, "cifar10")[0]).float() / 255.0
    rows = pd.read_csv(args.out).to_dict("records") if args.resume and args.out and args.out.is_file() else []
    done = {row["arch"] for row in rows}
    for number, arch in enumerate(archs):
        if arch in done:
            continue
        start = time.perf_counter()
        ops = list(bench.parse(arch).ops)
        net = tenas_network(supernet, op_names, ops, seed=number)
        gen = torch.Generator().manual_seed(number)
        code = [tenas_kappa(ntk, net, tenas_loader_batch(images, gen)) for _ in range(NTK_REPEATS)]
        fixed = [] if args.code_only else [
            tenas_kappa(ntk, tenas_network(supernet, op_names, ops, seed=10_000 + NTK_REPEATS * number + r), batch.x)
            for r in range(NTK_REPEATS)]
        row: dict[str, Any] = {"arch": arch, "accuracy": float(accuracy[arch]), "ours": ours.get(arch, math.nan),
                               "tenas_code": float(np.mean(code)), "tenas_net_our_batch": float(np.mean(fixed)) if fixed else math.nan}
        row.update({f"tenas_code_{r}": v for r, v in enumerate(code)} | {f"tenas_net_our_batch_{r}": v for r, v in enumerate(fixed)})
        if number < 5:
            theirs = tenas_network(supernet, op_names, ops, seed=number)
            mine = bench.build_resized(arch, "cifar10", channels=3, cells_per_stage=1).train()
            copy_weights(theirs, mine, op_names, ops)
            ctx = ProxyContext(bench, arch, dataset, mine, [batch], 0, torch.device("cpu"))
            with torch.no_grad():
                row["same_weights_max_logit_diff"] = float((theirs(batch.x)[1] - mine(batch.x)).abs().max())
            row["same_weights_kappa_tenas"] = tenas_kappa(ntk, theirs, batch.x)
            row["same_weights_kappa_ours"] = _condition_number(_output_row_grads_batch_coupled(ctx, mine))
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(f"{number + 1}/{len(archs)} {row['seconds']:.0f}s ours {row['ours']:.4g} tenas {row['tenas_code']:.4g}", flush=True)
        if args.out:
            pd.DataFrame(rows).to_csv(args.out, index=False)
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> None:
    """SPR/KT of each κ against CIFAR-10 accuracy, and the rank agreement between the codes."""
    print(f"n = {len(table)} (first architectures of sample seed 0)")
    columns = ["ours", "tenas_code", "tenas_net_our_batch", "tenas_code_0", "tenas_net_our_batch_0"]
    for c in columns:
        d = table.dropna(subset=[c])
        print(f"{c:22s} SPR {spearmanr(d[c], d.accuracy)[0]:+.3f}  KT {kendalltau(d[c], d.accuracy)[0]:+.3f}  (n={len(d)})")
    for a, b in [("ours", "tenas_code"), ("ours", "tenas_net_our_batch"), ("tenas_code", "tenas_net_our_batch"),
                 ("tenas_code_0", "tenas_code_1"), ("tenas_net_our_batch_0", "tenas_net_our_batch_1")]:
        d = table.dropna(subset=[a, b])
        print(f"rank agreement {a} vs {b}: rho {spearmanr(d[a], d[b])[0]:+.3f}  (n={len(d)})")
    same = table.dropna(subset=["same_weights_kappa_tenas"]) if "same_weights_kappa_tenas" in table else table.iloc[:0]
    if len(same):
        rel = ((same.same_weights_kappa_tenas - same.same_weights_kappa_ours).abs() / same.same_weights_kappa_ours).max()
        print(f"identical weights ({len(same)} archs): max |logit diff| {same.same_weights_max_logit_diff.max():.2g}, "
              f"max relative κ difference (TE-NAS float32 vs ours float64) {rel:.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenas", type=Path, help="VITA-Group/TENAS checkout (CPU copy, see above)")
    parser.add_argument("--store", type=Path, help="store holding nb201/cifar10 ntk_cond v2, batch 72, seed 0")
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--out", type=Path, help="CSV written after every architecture")
    parser.add_argument("--summarise", type=Path, help="only summarise a CSV written before")
    parser.add_argument("--resume", action="store_true", help="keep the rows already in --out and score the rest")
    parser.add_argument("--code-only", action="store_true", help="skip the 'TE-NAS network, our batch' variant (half the cost)")
    args = parser.parse_args()
    if not args.summarise and (args.tenas is None or args.store is None):
        parser.error("--tenas and --store are needed unless --summarise is given")
    torch.set_num_threads(1)
    try:
        summarise(pd.read_csv(args.summarise) if args.summarise else score(args))
    except NasproxyError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()

# Usage: python docs/gennas_experiments/nb201_cell_bn.py TASK OUT.jsonl [--store STORE] [--arch-list FILE] [--n N] [--plain]
#   TASK: a preset name or a task file (.json). Resumable; one JSON line per architecture.
#   --store: also write that store's score of TASK for each architecture ("stored"), and score only archs it holds
#   --arch-list: architectures in this order (one NB201 string per line; default: the seeded sample, seed 0)
#   --plain: also score our unchanged network ("plain"), for a paired comparison without a store
#   --images: a saved tensor (16 x 3 x 32 x 32, normalised) to train on instead of the run's fixed batch
"""GenNAS on NB201 with the public code's cell BatchNorm: affine=False, track_running_stats=False.

The public code trains foresight's ``nasbench2`` NB201 model (leeyeehoo/GenNAS
``pynbs/nasbench201/nasbench2.py``: ``SearchCell(..., affine=False, track_running_stats=False)``),
whose cell BatchNorms have no scale/shift and normalise with the batch's statistics in eval
mode too; stem and reduction blocks are as ours. This script builds our network with the
same initialisation as a run (``torch.manual_seed(seed)`` then ``Benchmark.build``), swaps the
BatchNorm of every cell operation for that kind, and scores it with the task.
"""
import argparse
import json
import os
from pathlib import Path

import torch
from torch import nn

from nasproxy_bench.adapters.nb201.network import Cell
from nasproxy_bench.gennas.proxies import task_proxy_name
from nasproxy_bench.gennas.regression import BATCH, regression_score
from nasproxy_bench.gennas.task import load_preset, load_task
from nasproxy_bench.inputs import fixed_batch
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.store import ResultStore


def with_batch_stat_cells(net: nn.Module) -> nn.Module:
    """Replace the BatchNorm of every cell operation by an affine-free, batch-statistics one."""
    for cell in (m for m in net.modules() if isinstance(m, Cell)):
        for parent in list(cell.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.BatchNorm2d):
                    setattr(parent, name, nn.BatchNorm2d(child.num_features, affine=False, track_running_stats=False))
    return net


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task")
    parser.add_argument("out", type=Path)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--arch-list", type=Path)
    parser.add_argument("--n", type=int)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--images", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = Path(os.environ.get("NASPROXY_DATA", "../shared"))
    bench = open_benchmark("nb201", root)
    is_file = args.task.endswith(".json")
    task = load_task(Path(args.task)) if is_file else load_preset(args.task)
    proxy = task_proxy_name(task) if is_file else args.task
    order = args.arch_list.read_text().split() if args.arch_list else bench.sample(1000, 0)
    stored = {}
    if args.store:  # any stored version (NB201 GenNAS scores are bit-identical across v1/v2)
        stored = next(g for g in ResultStore(args.store).groups.values() if g.key.proxy == proxy).records
        order = [a for a in order if a in stored]
    order = order[: args.n]
    done = {json.loads(line)["arch"] for line in args.out.read_text().splitlines()} if args.out.exists() else set()
    images = torch.load(args.images, weights_only=True) if args.images else fixed_batch(root, "cifar10", 0, BATCH).x
    if images.shape != (BATCH, 3, 32, 32):
        raise SystemExit(f"--images must hold {BATCH} x 3 x 32 x 32 images, got {tuple(images.shape)}")
    for arch in order:
        if arch in done:
            continue
        row = {"arch": arch}
        torch.manual_seed(0)
        row["cell_bn_batch_stats"] = regression_score(with_batch_stat_cells(bench.build(arch, "cifar10")).train(), images, task, 0)
        if args.plain:
            torch.manual_seed(0)
            row["plain"] = regression_score(bench.build(arch, "cifar10").train(), images, task, 0)
        if arch in stored:
            row["stored"] = stored[arch].score
        with open(args.out, "a") as h:
            h.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

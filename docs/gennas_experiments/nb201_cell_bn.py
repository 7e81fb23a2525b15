# Usage: python docs/gennas_experiments/nb201_cell_bn.py STORE PROXY OUT.jsonl [N]   (resumable; one line per arch)
"""GenNAS on NB201 with the public code's cell BatchNorm: affine=False, track_running_stats=False.

The public code trains foresight's ``nasbench2`` NB201 model (leeyeehoo/GenNAS
``pynbs/nasbench201/nasbench2.py``: ``SearchCell(..., affine=False, track_running_stats=False)``),
whose cell BatchNorms have no scale/shift and normalise with the batch's statistics in eval
mode too; stem and reduction blocks are as ours. This script builds our network with the
same initialisation as a run (``torch.manual_seed(seed)`` then ``Benchmark.build``), swaps the
BatchNorm of every cell operation for that kind, and scores it with the preset. Writes the
stored score (our network) beside the new one, for the first N stored architectures.
"""
import json
import os
import sys
from pathlib import Path

import torch
from torch import nn

from nasproxy_bench.adapters.nb201.network import Cell
from nasproxy_bench.gennas.regression import BATCH, regression_score
from nasproxy_bench.gennas.task import load_preset
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
    torch.set_num_threads(1)
    name, out = sys.argv[2], Path(sys.argv[3])
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    root = Path(os.environ.get("NASPROXY_DATA", "../shared"))
    bench = open_benchmark("nb201", root)
    stored = next(g for g in ResultStore(Path(sys.argv[1])).groups.values() if g.key.proxy == name).records
    order = [a for a in bench.sample(1000, 0) if a in stored][:limit]
    done = {json.loads(line)["arch"] for line in out.read_text().splitlines()} if out.exists() else set()
    images = fixed_batch(root, "cifar10", 0, BATCH).x
    task = load_preset(name)
    for arch in order:
        if arch in done:
            continue
        torch.manual_seed(0)
        net = with_batch_stat_cells(bench.build(arch, "cifar10")).train()
        score = regression_score(net, images, task, 0)
        with open(out, "a") as h:
            h.write(json.dumps({"arch": arch, "cell_bn_batch_stats": score, "stored": stored[arch].score}) + "\n")


if __name__ == "__main__":
    main()

# Usage: python docs/gennas_experiments/profile_one.py BENCH DATASET PROXY [N_ARCHS]
"""Where one GenNAS evaluation spends its CPU time: setup (targets, heads, shape probe), training, eval,
against one forward+backward of the same network on the same 16 images (single thread)."""
import sys
import time
from pathlib import Path

import torch

from nasproxy_bench.gennas.regression import BATCH, Regressor
from nasproxy_bench.gennas.task import load_preset
from nasproxy_bench.inputs import fixed_batch
from nasproxy_bench.registry import open_benchmark

torch.set_num_threads(1)
bench_name, dataset, proxy = sys.argv[1:4]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 1
bench = open_benchmark(bench_name, Path("/work/shared"))
images = fixed_batch(Path("/work/shared"), dataset, 0, BATCH).x
task = load_preset(proxy)
for arch in bench.sample(n, 0):
    torch.manual_seed(0)
    net = bench.build(arch, dataset).train()
    t0 = time.process_time()
    out = net.stage_outputs(images)
    sum(o.float().pow(2).mean() for o in out).backward()
    fb = time.process_time() - t0
    t0 = time.process_time()
    reg = Regressor(net, images, task, 0)
    setup = time.process_time() - t0
    t0 = time.process_time()
    reg.train()
    train = time.process_time() - t0
    t0 = time.process_time()
    score = reg.evaluate()
    ev = time.process_time() - t0
    print(f"{arch[:60]} fwd+bwd {fb:.3f}s setup {setup:.3f}s train {train:.2f}s ({train / task.training.iterations:.3f}/it, "
          f"{train / task.training.iterations / fb:.2f}x fwd+bwd) eval {ev:.3f}s "
          f"total {(setup + train + ev) / fb:.0f}x fwd+bwd score {score:.4f}",
          flush=True)

# Usage: python docs/gennas_experiments/nb101_width.py OUT.jsonl N [STEM_CHANNELS] [PROXIES]   (resumable; one line per arch)
#        python docs/gennas_experiments/nb101_width.py OUT.jsonl --report
"""GenNAS on NB101 with the public code's network width.

The public code (leeyeehoo/GenNAS ``builder_model.py`` -> ``NB101Wrapper(arch, init_channels, ...)``,
``do_sample.py`` ``--init_channels`` default 16) trains NB101 cells with a 16-channel stem (16/32/64
channels over the three stacks), not NB101's 128 (128/256/512) that ``Benchmark.build`` gives.
This script scores the first N architectures of the seeded NB101 sample (the same order as
``run --n``) with the shipped GenNAS tasks on that narrower network (same seed, same 16 images)
and reports Spearman rho vs the 30k sample's 108-epoch validation accuracy.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from nasproxy_bench.adapters.nb101.network import NB101Network
from nasproxy_bench.bootstrap import spearman_ci
from nasproxy_bench.gennas.regression import BATCH, regression_score
from nasproxy_bench.gennas.task import load_preset
from nasproxy_bench.inputs import fixed_batch
from nasproxy_bench.metrics import spearman
from nasproxy_bench.registry import open_benchmark

torch.set_num_threads(1)
DATA = Path("/work/shared")
out = Path(sys.argv[1])
bench = open_benchmark("nb101", DATA)
truth = bench.ground_truth("cifar10")
rows = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []

if sys.argv[2] == "--report":
    for stem in sorted({r["stem"] for r in rows}):
        for proxy in sorted({r["proxy"] for r in rows}):
            got = [r for r in rows if r["stem"] == stem and r["proxy"] == proxy]
            if len(got) < 3:
                continue
            loss = np.array([r["score"] for r in got])
            acc = truth.reindex([r["arch"] for r in got]).to_numpy(dtype=float)
            low, high = spearman_ci(-loss, acc)
            print(f"stem {stem} {proxy}: n={len(got)} SPR {spearman(-loss, acc):.3f} [{low:.2f}, {high:.2f}] "
                  f"cpu {np.mean([r['cpu_s'] for r in got]):.1f}s/arch, non-finite {int((~np.isfinite(loss)).sum())}")
    sys.exit(0)

n = int(sys.argv[2])
stem = int(sys.argv[3]) if len(sys.argv) > 3 else 16
proxies = sys.argv[4].split(",") if len(sys.argv) > 4 else ["gennas_single", "gennas_combo"]
done = {(r["arch"], r["proxy"], r["stem"]) for r in rows}
images = fixed_batch(DATA, "cifar10", 0, BATCH).x
tasks = {p: load_preset(p) for p in proxies}
for arch in bench.sample(n, 0):
    spec = bench.parse(arch)
    for proxy, task in tasks.items():
        if (arch, proxy, stem) in done:
            continue
        torch.manual_seed(0)
        net = NB101Network(spec.matrix, spec.ops, 10, stem_channels=stem).train()
        start = time.process_time()
        score = regression_score(net, images, task, 0)
        with open(out, "a") as handle:
            handle.write(json.dumps({"arch": arch, "proxy": proxy, "stem": stem, "score": score,
                                     "cpu_s": time.process_time() - start}) + "\n")

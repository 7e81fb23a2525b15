# Usage: python docs/gennas_experiments/curve.py STORE PROXY OUT.jsonl [ITERATIONS [PART/PARTS]]  (resumable; one line per arch)
"""Eval loss every 10 iterations for stored archs (gennas_combo); checks iteration 100 equals the stored score."""
import json
import sys
from pathlib import Path

import torch

from nasproxy_bench.gennas.regression import BATCH, Regressor
from nasproxy_bench.gennas.task import load_preset, parse_task, task_to_doc
from nasproxy_bench.inputs import fixed_batch
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.store import ResultStore

torch.set_num_threads(1)
name, out = sys.argv[2], Path(sys.argv[3])
b = open_benchmark("nb201", Path("/work/shared"))
store = ResultStore(Path(sys.argv[1]))
stored = next(g for g in store.groups.values() if g.key.proxy == name).records
order = [a for a in b.sample(1000, 0) if a in stored]
done = {json.loads(line)["arch"] for line in out.read_text().splitlines()} if out.exists() else set()
images = fixed_batch(Path("/work/shared"), "cifar10", 0, BATCH).x
doc = task_to_doc(load_preset(name))
if len(sys.argv) > 4:
    doc["training"]["iterations"] = int(sys.argv[4])
task = parse_task(doc)
if len(sys.argv) > 5:
    part, parts = (int(v) for v in sys.argv[5].split("/"))
    order = order[part::parts]
for arch in order:
    if arch in done:
        continue
    torch.manual_seed(0)
    net = b.build(arch, "cifar10").train()
    curve = Regressor(net, images, task, 0).train(eval_every=10)
    with open(out, "a") as h:
        h.write(json.dumps({"arch": arch, "curve": curve, "stored": stored[arch].score}) + "\n")
        h.flush()

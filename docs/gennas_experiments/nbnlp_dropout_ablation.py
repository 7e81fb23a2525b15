# Usage: python docs/gennas_experiments/nbnlp_dropout_ablation.py OUT.jsonl [--n N] [--store STORE --task TASK.json]
"""Which part of the official NB-NLP training dropouts moves GenNAS's RNN regression ranking?

``"network": {"dropouts": "official"}`` combines two things (``adapters/nbnlp/network.py``): the
dropouts (locked 0.25 / 0.1, weight drop 0.1) and the public weight drop's gradient cut, which
leaves the recurrent weights at their initial values. This scores the seeded NB-NLP sample
(``sample(1000, 0)``, the order of ``run --n``) with ``gennas_rnn_combo`` on two more networks:

- ``frozen_only``: no dropout, recurrent weights untrained (``Dropouts(0, 0, 0, False)``);
- ``dropout_only``: the dropouts with every weight trained (``Dropouts(0.25, 0.1, 0.1, True)``);

initialised as ``ProxyContext.model_variant`` initialises the official variant (run seed 0), so
the three share every initial weight. Resumable: one JSON line per architecture. With
``--store`` and ``--task``, each line also carries that store's score of the task ("official").
"""
import argparse
import json
from pathlib import Path

import torch

from nasproxy_bench.adapters.nbnlp.network import Dropouts, RecurrentLM
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.gennas.proxies import spec_for
from nasproxy_bench.gennas.rnn import rnn_regression_score
from nasproxy_bench.gennas.rnn_task import load_rnn_preset
from nasproxy_bench.proxies.base import seeded_build
from nasproxy_bench.registry import open_benchmark
from nasproxy_bench.store import ResultStore

VARIANTS = {"frozen_only": Dropouts(0.0, 0.0, 0.0, False), "dropout_only": Dropouts(0.25, 0.1, 0.1, True)}
SEED = 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--task", type=str)
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = open_benchmark("nbnlp", resolve_data_root(None))
    task = load_rnn_preset("gennas_rnn_combo")
    stored = {}
    if args.store and args.task:
        name = spec_for(args.task).name
        for group in ResultStore(args.store).groups.values():
            if group.key.proxy == name and group.key.benchmark == "nbnlp":
                stored.update({a: r.score for a, r in group.records.items()})
    done = {json.loads(line)["arch"] for line in args.out.read_text().splitlines()} if args.out.exists() else set()
    vocab = bench.dataset("ptb").num_outputs
    for arch in bench.sample(1000, 0)[: args.n]:
        if arch in done:
            continue
        row = {"arch": arch}
        spec = bench.parse(arch)
        for name, dropouts in VARIANTS.items():
            # initialised as ProxyContext.model_variant initialises it (repeat 0)
            net = seeded_build(SEED, 0, lambda s=spec, d=dropouts: RecurrentLM(s, vocab, dropouts=d)).train()
            row[name] = rnn_regression_score(net, task, SEED)
        if arch in stored:
            row["official"] = stored[arch]
        with open(args.out, "a") as handle:
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

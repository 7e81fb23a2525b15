"""Check our language models against the ``num_params`` of every official NAS-Bench-NLP log.

Each log is checked on its own (PTB with the 10,000-word vocabulary, WikiText-2 with 33,278),
failed runs included: the count depends only on the cell. The network is built on the
``meta`` device (shapes only) and counted like the official ``main_one_model_train.py``
(every parameter once, so the decoder weight shared with the embedding counts once); the
closed-form count ``official_param_count`` must agree too.
"""

from __future__ import annotations

import torch

from nasproxy_bench.adapters.nbnlp.network import VOCAB, RecurrentLM, official_param_count
from nasproxy_bench.benchmark import Benchmark, VerifyResult
from nasproxy_bench.complexity import count_params


def verify_params(bench: Benchmark, *, stride: int = 1) -> VerifyResult:
    result = VerifyResult(what="official logs (num_params of PTB and WikiText-2 runs)")
    logs = bench.logs.iloc[::stride]
    built: dict[tuple[str, str], int] = {}
    for row in logs.itertuples(index=False):
        key = (row.arch, row.dataset)
        if key not in built:
            recepie = bench.parse(row.arch)
            with torch.device("meta"):
                ours = count_params(RecurrentLM(recepie, VOCAB[row.dataset]))
            formula = official_param_count(recepie, VOCAB[row.dataset])
            if formula != ours:
                result.mismatches.append(f"{row.arch}: built network has {ours} params, formula {formula}")
            built[key] = ours
        ours = built[key]
        result.record_error("num_params", ours - int(row.num_params))
        if ours != int(row.num_params):
            result.mismatches.append(f"{row.dataset} recepie {row.recepie_id}: params {ours} != official {row.num_params}")
        result.checked += 1
    return result


__all__ = ["verify_params"]

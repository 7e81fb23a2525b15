"""Check that our NB201 networks reproduce the official parameter (and FLOP) counts."""

from __future__ import annotations

import torch

from nasproxy_bench.adapters.nb201.benchmark import NB201Benchmark
from nasproxy_bench.benchmark import VerifyResult
from nasproxy_bench.complexity import count_flops, count_params

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


def verify_costs(bench: NB201Benchmark, *, stride: int = 1, flops: bool = False, tol: float = 1e-6) -> VerifyResult:
    """Build every ``stride``-th architecture for each dataset and compare with the table.

    Parameter counts use networks on the ``meta`` device (no memory, no init), FLOPs real ones.
    """
    result = VerifyResult()
    for arch in bench.archs()[::stride]:
        for dataset in DATASETS:
            official = bench.costs(dataset).loc[arch]
            with torch.device("meta"):
                params = count_params(bench.build(arch, dataset)) / 1e6
            err = params - official["params_M"]
            result.record_error("params_M", err)
            if abs(err) > tol:
                result.mismatches.append(f"{arch} {dataset}: params {params} != {official['params_M']}")
            if flops:
                value = count_flops(bench.build(arch, dataset), bench.dataset(dataset).input_shape) / 1e6
                ferr = value - official["flops_M"]
                result.record_error("flops_M", ferr)
                if abs(ferr) > tol * 10:
                    result.mismatches.append(f"{arch} {dataset}: flops {value} != {official['flops_M']}")
            result.checked += 1
    return result

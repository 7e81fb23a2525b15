"""Check that our NB201 networks reproduce the official parameter (and FLOP) counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from nasproxy_bench.adapters.nb201 import NB201Benchmark
from nasproxy_bench.complexity import count_flops, count_params

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")


@dataclass
class VerifyResult:
    checked: int = 0
    max_params_error: float = 0.0
    max_flops_error: float = 0.0
    mismatches: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"checked {self.checked} (architecture, dataset) pairs: max |params - official| = "
            f"{self.max_params_error:.2e} M, max |FLOPs - official| = {self.max_flops_error:.2e} M, "
            f"{len(self.mismatches)} mismatches"
        )


def verify_costs(data_root: Path, *, stride: int = 1, flops: bool = False, tol: float = 1e-6) -> VerifyResult:
    """Build every ``stride``-th architecture for each dataset and compare with the table.

    Parameter counts use networks on the ``meta`` device (no memory, no init), FLOPs real ones.
    """
    bench = NB201Benchmark(data_root)
    result = VerifyResult()
    for arch in bench.archs()[::stride]:
        for dataset in DATASETS:
            official = bench.costs(dataset).loc[arch]
            with torch.device("meta"):
                params = count_params(bench.build(arch, dataset)) / 1e6
            err = abs(params - official["params_M"])
            result.max_params_error = max(result.max_params_error, err)
            if err > tol:
                result.mismatches.append(f"{arch} {dataset}: params {params} != {official['params_M']}")
            if flops:
                value = count_flops(bench.build(arch, dataset), bench.dataset(dataset).input_shape) / 1e6
                ferr = abs(value - official["flops_M"])
                result.max_flops_error = max(result.max_flops_error, ferr)
                if ferr > tol * 10:
                    result.mismatches.append(f"{arch} {dataset}: flops {value} != {official['flops_M']}")
            result.checked += 1
    return result

"""Check every NB101 table row: the official hash of its cell and the params of our network."""

from __future__ import annotations

import torch

from nasproxy_bench.adapters.nb101.network import NB101Network, analytic_flops
from nasproxy_bench.adapters.nb101.spec import NB101Spec
from nasproxy_bench.benchmark import VerifyResult
from nasproxy_bench.complexity import count_flops, count_params


def verify_table(bench, *, stride: int = 1, flops: bool = False) -> VerifyResult:  # noqa: ANN001 (NB101Benchmark; avoids an import cycle)
    """For every ``stride``-th row: hash(pruned cell) == row hash, our params == official params.

    Networks are built on the ``meta`` device (no memory, no init). With ``flops``, the closed
    form used by ``costs`` is also compared with the hook-based counter on a real network
    (every 100th checked row: a forward pass of a 128-channel network is slow on CPU).
    """
    result = VerifyResult(what="NB101 cells (hash + params)")
    table = bench.table
    rows = table.iloc[::stride]
    for position, (arch, text, official) in enumerate(zip(rows["arch"], rows["spec"], rows["cifar10/params"], strict=True)):
        try:
            spec = NB101Spec.from_json(text)
        except ValueError as exc:
            result.mismatches.append(f"{arch}: invalid cell ({exc})")
            result.checked += 1
            continue
        digest = spec.hash()
        if digest != arch:
            result.mismatches.append(f"{arch}: hash of the cell is {digest}")
        result.record_error("hash", float(digest != arch))
        with torch.device("meta"):
            params = count_params(NB101Network(spec.matrix, spec.ops))
        result.record_error("params", params - int(official))
        if params != int(official):
            result.mismatches.append(f"{arch}: params {params} != official {int(official)}")
        if flops and position % 100 == 0:
            counted = count_flops(NB101Network(spec.matrix, spec.ops), (3, 32, 32))
            closed = analytic_flops(spec.matrix, spec.ops)
            result.record_error("flops (closed form vs counter)", closed - counted)
            if closed != counted:
                result.mismatches.append(f"{arch}: closed-form FLOPs {closed} != counted {counted}")
        result.checked += 1
    return result

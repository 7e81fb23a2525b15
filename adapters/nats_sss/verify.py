"""Check our size-space networks against every official params/FLOPs count available.

Two sources: the official records in ``benchmarks/nats_sss/official_fixture/`` (every
schedule's record of every file), and the imported table (params and FLOPs copied from the
records of the whole archive). Official values are in millions with six decimals, i.e. exact
integers: we compare integers, so any difference is a mismatch.
"""

from __future__ import annotations

import math
from pathlib import Path

from nasproxy_bench.adapters.nats_sss.importer import DATASETS, META
from nasproxy_bench.benchmark import VerifyResult
from nasproxy_bench.complexity import count_flops, count_params
from nasproxy_bench.errors import DataError
from nasproxy_bench.safe_pickle import safe_load


def our_counts(bench, arch: str, dataset: str) -> tuple[int, int]:
    """(parameters, FLOPs) of our network (a real CPU one: these are small, and the meta device's first use costs seconds)."""
    net = bench.build(arch, dataset)
    return count_params(net), count_flops(net, bench.dataset(dataset).input_shape)


def _compare(result: VerifyResult, where: str, ours: tuple[int, int], params_m: float, flops_m: float) -> None:
    for quantity, mine, official in (("params", ours[0], params_m), ("flops", ours[1], flops_m)):
        if not math.isfinite(official):
            result.mismatches.append(f"{where}: official {quantity} is missing (NaN)")
            continue
        error = mine - official * 1e6
        result.record_error(f"{quantity} (count)", error)
        if mine != round(official * 1e6):
            result.mismatches.append(f"{where}: {quantity} {mine} != official {official}M")


def fixture_official(directory: Path, *, trust_pickles: bool = False) -> dict[tuple[str, str], list[tuple[float, float, str]]]:
    """(arch, dataset) -> [(params_M, flops_M, where)] over every schedule and seed record in the folder."""
    found: dict[tuple[str, str], list[tuple[float, float, str]]] = {}
    for path in sorted(p for p in directory.glob("*.pickle.pbz2") if p.name != META):
        data = safe_load(path, allow_unsafe=trust_pickles)
        try:
            for hp, record in data.items():
                for (dataset, seed), results in record["all_results"].items():
                    if dataset in DATASETS:
                        found.setdefault((str(record["arch_str"]), dataset), []).append(
                            (float(results["params"]), float(results["flop"]), f"{path.name} hp={hp} {dataset} seed {seed}"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{path}: not a NATS-sss architecture file ({type(exc).__name__}: {exc})") from None
    return found


def verify_costs(bench, *, stride: int = 1) -> VerifyResult:
    """Params and FLOPs of every fixture record and of every ``stride``-th imported table row."""
    from nasproxy_bench.adapters.nats_sss.benchmark import FIXTURE

    result = VerifyResult()
    parts = []
    fixture = bench.data_root / FIXTURE
    if fixture.is_dir():
        official = fixture_official(fixture, trust_pickles=bench.trust_pickles)
        for (arch, dataset), values in sorted(official.items()):
            ours = our_counts(bench, arch, dataset)
            for params_m, flops_m, where in values:
                _compare(result, f"{arch} {where}", ours, params_m, flops_m)
        parts.append(f"{len(official)} from the official records in {FIXTURE}/ "
                     f"({sum(map(len, official.values()))} records)")
        result.checked += len(official)
    if bench.has_table:
        table = bench.table.iloc[::stride]
        count = 0
        for dataset in DATASETS:
            cols = [f"{dataset}/params_M", f"{dataset}/flops_M"]
            if not set(cols) <= set(table.columns):
                continue
            for arch, params_m, flops_m in zip(table["arch"], table[cols[0]], table[cols[1]], strict=True):
                _compare(result, f"{arch} {dataset} (imported table)", our_counts(bench, arch, dataset), params_m, flops_m)
                count += 1
        parts.append(f"{count} from the imported table" + (f" (every {stride}th row)" if stride > 1 else ""))
        result.checked += count
    if not parts:
        raise DataError(f"nothing to verify nats_sss against: neither {bench.data_root / FIXTURE} nor an imported table "
                        f"{bench.data_root / bench.table_path} exists")
    result.what = "(architecture, dataset) pairs, params and FLOPs: " + "; ".join(parts)
    return result

"""Check our TransNAS-Bench-101 networks against every official count available here.

- Enumeration: the space's rules must give exactly the architectures of the table.
- Parameters: NAS-Bench-Suite-Zero's reference files (``reference/naslib_suitezero_tnb101_*``)
  carry NASLib's parameter count for ~700 architectures per task; NASLib builds the official
  TransNAS code with 100 / 63 classes for class_object / class_scene (the official configs use
  75 / 47), so those two heads are built with NASLib's sizes for this comparison.
- FLOPs are not compared: NASLib's FLOPs follow another convention (they are 2.3% above our
  conv+linear MAC count at 256x256 for a micro class_scene net, and the jigsaw value matches
  no tile size); no official FLOPs or parameter file is available here.
"""

from __future__ import annotations

import json

import torch

from nasproxy_bench.adapters.transnas.arch import MicroArch
from nasproxy_bench.adapters.transnas.decoders import IMAGE_SIZE, NASLIB_CLASSES, task_network
from nasproxy_bench.adapters.transnas.network import TransNASEncoder
from nasproxy_bench.benchmark import Benchmark, VerifyResult
from nasproxy_bench.complexity import count_params
from nasproxy_bench.errors import DataError

REFERENCE = "reference/naslib_suitezero_tnb101_{space}_subset.json"


def naslib_to_arch(key: str, micro: bool) -> str:
    """NASLib's op-index tuple ``'(1, 0, 0, 2, 1, 0)'`` as our canonical string.

    Micro: the six digits are the official cell code in order; macro: the module digits, with
    0 marking an absent module (NASLib pads to 6).
    """
    try:
        digits = [int(t) for t in key.strip("()[] ").split(",")]
    except ValueError:
        raise ValueError(f"NASLib arch key {key!r} is not a tuple of integers") from None
    if micro:
        if len(digits) != 6:
            raise ValueError(f"NASLib micro key {key!r} must have 6 entries")
        return f"64-41414-{digits[0]}_{digits[1]}{digits[2]}_{digits[3]}{digits[4]}{digits[5]}"
    return "64-" + "".join(str(d) for d in digits if d) + "-basic"


def load_reference(bench: Benchmark) -> dict[str, dict]:
    micro = bench.arch_class is MicroArch
    path = bench.data_root / REFERENCE.format(space="micro" if micro else "macro")
    if not path.is_file():
        raise DataError(f"missing {path}; it ships with the shared data (see ../shared/README.md)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); replace it with the shared file") from None


def naslib_params(
    arch: str, task: str, bench: Benchmark, cache: dict | None = None, classes: dict[str, int] | None = NASLIB_CLASSES,
) -> int:
    """Parameters of our network with NASLib's head sizes (``classes=None``: the official configs'):
    encoder (cached per arch) + decoder.

    Built on the meta device (shapes only). The decoder depends on the arch only through the
    encoder's output channels and size, so it is cached on those.
    """
    cache = {} if cache is None else cache
    encoder_params, encoder = encoder_count(arch, bench, cache)
    head_key = (task, encoder.out_channels, encoder.output_size(IMAGE_SIZE), tuple(sorted((classes or {}).items())))
    if head_key not in cache:
        with torch.device("meta"):
            cache[head_key] = count_params(task_network(encoder, task, classes).decoder)
    return encoder_params + cache[head_key]


def encoder_count(arch: str, bench: Benchmark, cache: dict) -> tuple[int, TransNASEncoder]:
    if arch not in cache:
        with torch.device("meta"):
            encoder = TransNASEncoder(bench.parse(arch))
        cache[arch] = (count_params(encoder), encoder)
    return cache[arch]


def check_model_info(bench: Benchmark, result: VerifyResult, cache: dict, *, stride: int = 1) -> dict[str, int]:
    """Compare with the official ``model_info`` counts a user imported (``import tnb101``), if any.

    ``<task>/encoder_params`` must equal our encoder; ``<task>/model_params`` must equal our
    whole network with either head convention (official configs 47/75 classes, or NASLib's
    63/100): the returned tally says which one matched, so the question of which class counts
    the release used is answered by the data itself.
    """
    table = bench.table
    tally = {"official heads": 0, "NASLib heads": 0}
    for task in bench.datasets:
        column = f"{task}/model_params"
        if column not in table.columns:
            continue
        rows = table[["arch", column, f"{task}/encoder_params"]].dropna().iloc[::stride]
        for arch, model_params, encoder_params in rows.itertuples(index=False):
            ours_encoder = encoder_count(arch, bench, cache)[0]
            result.record_error("encoder_params", ours_encoder - int(encoder_params))
            official_heads = naslib_params(arch, task, bench, cache, classes=None)
            naslib_heads = naslib_params(arch, task, bench, cache)
            result.checked += 1
            if int(model_params) == official_heads:
                tally["official heads"] += 1
            elif int(model_params) == naslib_heads:
                tally["NASLib heads"] += 1
            else:
                result.record_error("model_params", min(abs(official_heads - model_params), abs(naslib_heads - model_params)))
                result.mismatches.append(f"{arch} {task}: official model_params {int(model_params)}, ours {official_heads} "
                                         f"(official heads) / {naslib_heads} (NASLib heads)")
            if ours_encoder != int(encoder_params):
                result.mismatches.append(f"{arch} {task}: official encoder_params {int(encoder_params)}, ours {ours_encoder}")
    return tally


def verify_transnas(bench: Benchmark, *, stride: int = 1) -> VerifyResult:
    result = VerifyResult(what="(architecture, task) parameter counts against NASLib's")
    enumerated = bench.enumerate()
    table = list(bench.archs())
    if sorted(enumerated) != sorted(table):
        result.mismatches.append(
            f"enumeration gives {len(enumerated)} archs, table has {len(table)} "
            f"({len(set(enumerated) - set(table))} only enumerated, {len(set(table) - set(enumerated))} only in table)"
        )
    micro = bench.arch_class is MicroArch
    cache: dict = {}
    for task, entries in load_reference(bench).items():
        bench.dataset(task)
        for key, entry in list(entries.items())[::stride]:
            arch = naslib_to_arch(key, micro)
            official = round(float(entry["params"]["score"]) * 1e6)
            ours = naslib_params(arch, task, bench, cache)
            result.record_error("params", ours - official)
            if ours != official:
                result.mismatches.append(f"{arch} {task}: params {ours} != NASLib {official}")
            result.checked += 1
    tally = check_model_info(bench, result, cache, stride=stride)
    if any(tally.values()):
        result.what += " and the imported official model_info (" + ", ".join(f"{v} match {k}" for k, v in tally.items()) + ")"
    return result


__all__ = ["verify_transnas", "naslib_to_arch", "check_model_info"]

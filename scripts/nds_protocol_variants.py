"""Score NDS ImageNet architectures under the network constructions of other code bases.

(``--variant official`` with ``--inputs gaussian`` works on any benchmark, e.g. NB201.)

An experiment for the NDS fidelity gaps in ``docs/proxies.md``, not part of the package: the
networks are built here (our own code) the way the loaders of NASWOT / GenNAS / GenNAS-Zero
build them, and scored by our proxies (``synflow``, ``naswot``, ...) through the same
``ProxyContext`` as a run. Variants (``--variant``):

- ``official``: our builder (``Benchmark.build``; verified against the official counts).
- ``one-class``: the official network with one output, as the reference loaders build every
  NDS network (``num_classes`` = 1).
- ``cifar-stem`` (cell spaces): the CIFAR stem (one stride-1 3x3 conv to 3C) in place of the
  ImageNet stem, one output: how GenNAS-Zero's loader builds the ``_in`` cell spaces.
- ``fbnas`` (AnyNet spaces): GenNAS's loader (``fbnas.py``): pycls AnyNet with a stride-1 3x3
  stem of width 12, the official stem entry (``ds/ws/ss[0]``) built as an extra bottleneck
  stage of stride 1, ``num_gs`` read as the group *width* (groups = inner width // num_gs),
  pycls initialisation, one output.
- ``fbnas-groups``: as ``fbnas`` but ``num_gs`` read as the number of groups (isolates that
  one difference).
- ``fbnas-torch-init``: as ``fbnas`` but with PyTorch's default initialisation (isolates pycls's init).
- ``official-width-groups``: the official network with only ``num_gs`` read as group width.

``--inputs gaussian`` replaces the images of the batch with N(0, 1) noise of the same shape
(seeded), to measure how much a data-dependent proxy's ranking rests on the image content
(the variant column then reads ``<variant>+gaussian``).

Rows go to a CSV (resumable: done (arch, proxy) pairs are skipped); ``--summary`` prints the
Spearman correlation of each proxy with best-epoch and final-epoch accuracy.

    python scripts/nds_protocol_variants.py --benchmark nds_resnext-a --variant fbnas --n 130 \
        --out results/variants.csv
    python scripts/nds_protocol_variants.py --summary --out results/variants.csv
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
from pathlib import Path

import pandas as pd
import torch
from scipy import stats
from torch import nn

from nasproxy_bench.adapters.nds.anynet import AnyNetwork, Residual, make_block
from nasproxy_bench.adapters.nds.arch import AnyNetArch, CellArch
from nasproxy_bench.adapters.nds.cells import CellNetwork
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.errors import NasproxyError
from nasproxy_bench.inputs import Batch
from nasproxy_bench.networks import StagedNetwork
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_benchmark, get_proxy
from nasproxy_bench.runner import evaluate, task_batches

VARIANTS = ("official", "one-class", "cifar-stem", "fbnas", "fbnas-groups", "fbnas-torch-init", "official-width-groups")
FIELDS = ("benchmark", "dataset", "variant", "arch", "proxy", "score", "status", "seconds")


def pycls_init(model: nn.Module) -> None:
    """pycls ``init_weights``: conv N(0, 2/(k*k*out)), BN weight 1 / bias 0, linear N(0, 0.01), bias 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_out))
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)


class LoaderAnyNet(StagedNetwork):
    """The AnyNet that GenNAS's ``fbnas.NDS.get_network`` builds from an NDS ImageNet config.

    ``stage_outputs`` are where GenNAS's ``ResNetSeriesWrapper`` attaches its regression heads:
    the last three stages, each read before the final ReLU of its last block (the wrapper
    replaces that ReLU by an identity and applies ReLU only on the way into the next stage).
    """

    def __init__(self, arch: AnyNetArch, groups_are_widths: bool, pycls_initialised: bool = True) -> None:
        super().__init__()
        stem_width = 12
        self.stem = nn.Sequential(nn.Conv2d(3, stem_width, 3, padding=1, bias=False), nn.BatchNorm2d(stem_width), nn.ReLU())
        stages, c_in = [], stem_width
        for i, (depth, width, stride) in enumerate(zip(arch.ds, arch.ws, arch.ss, strict=True)):
            stride = 1 if (i == 0 and stride == 8) else stride
            bot_mul = arch.bot_muls[i] or 1.0
            inner = int(round(width * bot_mul))
            groups = inner // arch.num_gs[i] if groups_are_widths else arch.num_gs[i]
            if groups < 1 or inner % groups:
                raise NasproxyError(f"stage {i}: inner width {inner} is not divisible into {groups} groups")
            blocks = [make_block(arch.block_type, c_in if b == 0 else width, width, stride if b == 0 else 1, bot_mul, groups)
                      for b in range(depth)]
            stages.append(nn.Sequential(*blocks))
            c_in = width
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_in, 1)
        if pycls_initialised:
            pycls_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.stages(self.stem(x))).flatten(1))

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        read_from = len(self.stages) - 3
        outputs = []
        for i, stage in enumerate(self.stages):
            if i < read_from:
                x = stage(x)
                continue
            *blocks, last = stage
            for block in blocks:
                x = block(x)
            if not isinstance(last, Residual):
                raise NasproxyError(f"stage {i} ends in a {type(last).__name__}, not a residual block")
            pre_relu = last.pre_activation(x)
            outputs.append(pre_relu)
            x = last.relu(pre_relu)
        return outputs


class WidthGroupsAnyNet(AnyNetwork):
    """The official network except that ``num_gs`` is read as a group width."""

    def __init__(self, arch: AnyNetArch, num_classes: int) -> None:
        widths = tuple(int(round(w * (m or 1.0))) for w, m in zip(arch.ws, arch.bot_muls, strict=True))
        groups = tuple(max(1, inner // g) for inner, g in zip(widths, arch.num_gs, strict=True))
        bad = [i for i in range(1, len(groups)) if widths[i] % groups[i]]
        if bad:
            raise NasproxyError(f"stage {bad[0]}: inner width {widths[bad[0]]} is not divisible into {groups[bad[0]]} groups")
        super().__init__(dataclasses.replace(arch, num_gs=groups), num_classes)


def build_variant(net: object, variant: str, official: nn.Module) -> nn.Module:
    if variant == "official":
        return official
    if isinstance(net, CellArch):
        if variant == "one-class":
            return CellNetwork(net, 1, imagenet=True)
        if variant == "cifar-stem":
            return CellNetwork(net, 1, imagenet=False)
    elif isinstance(net, AnyNetArch):
        if variant == "one-class":
            return AnyNetwork(net, 1)
        if variant in ("fbnas", "fbnas-groups", "fbnas-torch-init"):
            return LoaderAnyNet(net, groups_are_widths=variant != "fbnas-groups", pycls_initialised=variant != "fbnas-torch-init")
        if variant == "official-width-groups":
            return WidthGroupsAnyNet(net, 1000)
    raise NasproxyError(f"variant {variant!r} does not apply to {type(net).__name__} spaces")


def gaussian_batches(batches: list[Batch], seed: int) -> list[Batch]:
    """The same batches with their images replaced by seeded N(0, 1) noise (labels kept)."""
    noise = torch.Generator().manual_seed(seed)
    return [dataclasses.replace(b, x=torch.randn(b.x.shape, generator=noise), source="N(0, 1) noise") for b in batches]


def done_rows(out: Path) -> set[tuple[str, ...]]:
    if not out.exists():
        return set()
    with out.open() as f:
        return {(r["benchmark"], r["dataset"], r["variant"], r["arch"], r["proxy"]) for r in csv.DictReader(f)}


def score(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    root = resolve_data_root(None)
    bench = get_benchmark(args.benchmark)(root)
    dataset = bench.dataset(args.dataset)
    # rows name a proxy as the user did (a registered name or gennas:path/to/task.json), so --summary can resolve it
    specs = {ref: get_proxy(ref) for ref in args.proxies.split(",")}
    names = frozenset(s.name for s in specs.values())
    batches = task_batches(dataset, root, args.seed, args.batch_size, 1)
    variant = args.variant
    if args.inputs == "gaussian":
        batches = gaussian_batches(batches, args.seed)
        variant += "+gaussian"
    done = done_rows(args.out)
    new_file = not args.out.exists()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new_file:
            writer.writeheader()
        for arch in bench.sample(args.n, args.sample_seed):
            todo = [ref for ref in specs if (bench.name, dataset.name, variant, arch, ref) not in done]
            if not todo:
                continue
            torch.manual_seed(args.seed)
            official = bench.build(arch, dataset.name)
            torch.manual_seed(args.seed)
            model = official if args.variant == "official" else build_variant(bench.parse(arch).net, args.variant, official)
            model.train()
            ctx = ProxyContext(bench, arch, dataset, model, batches, args.seed, torch.device("cpu"), names)
            for ref in todo:
                record = evaluate(specs[ref], ctx)
                writer.writerow({"benchmark": bench.name, "dataset": dataset.name, "variant": variant, "arch": arch,
                                 "proxy": ref, "score": record.score, "status": record.status, "seconds": round(record.wall_s, 3)})
            f.flush()


def summary(args: argparse.Namespace) -> None:
    rows = pd.read_csv(args.out)
    root = resolve_data_root(None)
    lines, benches = [], {}
    for (bench_name, dataset, variant, proxy), group in rows.groupby(["benchmark", "dataset", "variant", "proxy"], sort=False):
        if bench_name not in benches:
            benches[bench_name] = get_benchmark(bench_name)(root)
        bench = benches[bench_name]
        ok = group[group["status"] == "ok"].set_index("arch")["score"] * get_proxy(proxy).direction.sign()
        line = {"benchmark": bench_name, "dataset": dataset, "variant": variant, "proxy": proxy,
                "n_scored": len(group), "n_error": int((group["status"] != "ok").sum())}
        spec = bench.dataset(dataset)
        for metric in (m for m in spec.metrics if m.name in ("test_acc", "final_acc")):
            truth = bench.ground_truth(dataset, metric.name).reindex(ok.index) * metric.direction.sign()
            keep = truth.notna() & ok.notna()
            line[f"n_{metric.name}"] = int(keep.sum())
            line[f"spr_{metric.name}"] = round(float(stats.spearmanr(ok[keep], truth[keep])[0]), 3) if keep.sum() > 2 else math.nan
        lines.append(line)
    print(pd.DataFrame(lines).to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark")
    parser.add_argument("--dataset", default="imagenet-32")
    parser.add_argument("--variant", choices=VARIANTS, default="official")
    parser.add_argument("--proxies", default="synflow")
    parser.add_argument("--n", type=int, default=None, help="first n of the seeded sample (default: all)")
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0, help="init and batch seed")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--inputs", choices=("dataset", "gaussian"), default="dataset",
                        help="the dataset's batch (default) or N(0, 1) noise of its shape")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--summary", action="store_true")
    args = parser.parse_args()
    if args.summary:
        summary(args)
    elif args.benchmark is None:
        parser.error("--benchmark is required unless --summary")
    else:
        score(args)


if __name__ == "__main__":
    main()

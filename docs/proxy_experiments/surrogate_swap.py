"""Does the TransNAS surrogate batch explain a proxy's gap to NASLib? Swap its inputs or targets and see.

Usage: python docs/proxy_experiments/surrogate_swap.py SPACE TASK REFERENCE.csv N PROXIES VARIANT[,VARIANT...] [OUT.csv]

SPACE is micro or macro, REFERENCE.csv the file ``python -m nasproxy_bench.adapters.transnas.reference
SPACE`` writes, N how many of its architectures of TASK to score (the first N, as the
``run --arch-list`` runs do), PROXIES our proxy names. Each variant changes one part of the seed-0,
batch-8 surrogate batch and keeps the rest:

- ``surrogate``: the batch of the documented runs (CIFAR-10 upsampled to 256x256, synthetic targets);
- ``cifar100``: CIFAR-100 images instead of CIFAR-10 (other real images, same resize and normalisation);
- ``noise``: standard-normal inputs (no image content at all);
- ``coarse_targets``: segmentsemantic only, class maps constant on 64x64 instead of 16x16 blocks;
- ``image_targets``: segmentsemantic only, the 17 classes from the image's brightness (regions that
  follow the image's edges, as real segmentations do);
- ``one_class_targets``: segmentsemantic only, every pixel class 0 (the extreme of a dominant class);
- ``skewed_targets``: segmentsemantic only, 16x16 blocks of class 0 with probability 0.75, else uniform
  over the other 16 (real indoor segmentations are dominated by a few classes, where our surrogate's
  blocks are uniform over the 17);
- ``unit_targets``: normal only, the same maps moved from (−1, 1) to (0, 1): NASLib's Taskonomy loader
  turns the normal PNG into a tensor in [0, 1] and does not normalise the label (``load_ops.ToTensor`` /
  ``Normalize``), while the decoder's tanh output is centred on 0;
- ``shared_class``: class_object / class_scene only, every sample's soft label the same one-hot class
  (class 0: a batch dominated by one object or scene, as an indoor Taskonomy batch can be);
- ``flat_targets``: class_object / class_scene only, the uniform distribution over the classes;
- ``naslib_head``: class_object / class_scene only, NASLib's head size (100 / 63 classes instead of the
  official 75 / 47) with soft labels drawn the same way over those classes; the encoder's weights are
  the same as in the other variants (same seed, built first);
- ``batch32``: NASLib's batch of 32 (the first 8 samples are the surrogate's, the rest the next 24 of
  the same seeded draw);
- ``naslib_head+batch32``: both;
- ``per_arch_batch``, ``per_arch_batch2``: a new batch for every architecture, as NASLib's runner draws
  one (its ``get_some_data`` starts a new iterator over a shuffling loader for each query): the k-th
  architecture gets the surrogate draw of seed 1000 + k (2000 + k for the second), images and targets
  both; the networks stay seed 0's. Two such runs agree with each other as two NASLib runs would.

Prints, per proxy and variant, the rank agreement with the ``surrogate`` variant, with NASLib's
released scores, and the SPR of ours and of NASLib's against NASLib's ``val_accuracy`` (final-epoch
validation metric). A factor explains a gap only if changing it moves our ranking toward NASLib's.
The networks are the same in every variant (built from seed 0), so only the batch differs.
"""
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from nasproxy_bench.adapters.transnas import inputs as tnb_inputs
from nasproxy_bench.adapters.transnas.decoders import IMAGE_SIZE, NASLIB_CLASSES, SEGMENT_CLASSES, task_network
from nasproxy_bench.adapters.transnas.network import TransNASEncoder
from nasproxy_bench.benchmark import Benchmark, Dataset
from nasproxy_bench.compare import REFERENCE_NAMES
from nasproxy_bench.config import resolve_data_root
from nasproxy_bench.inputs import Batch, _pick, load_images
from nasproxy_bench.metrics import spearman
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.registry import get_benchmark
from nasproxy_bench.runner import build_model, evaluate, resolve_proxies, task_batches

SEED, BATCH_SIZE = 0, 8


NASLIB_VARIANTS = ("batch32", "naslib_head", "naslib_head+batch32")
PER_ARCH_SEED_BASE = {"per_arch_batch": 1000, "per_arch_batch2": 2000}
SKEWED_SHARE = 0.75  # skewed_targets: the share of 16x16 blocks given class 0


def naslib_variant_batch(name: str, task: str, base: Batch, data_root: Path, dataset: Dataset) -> Batch:
    """NASLib's batch of 32 and/or its 100 / 63-class soft labels (one seeded draw, so batch 8's rows come first)."""
    if "batch32" in name:
        base = task_batches(dataset, data_root, SEED, 32, 1)[0]
    y = base.y
    if "naslib_head" in name:
        if task not in NASLIB_CLASSES:
            raise SystemExit(f"variant {name!r} needs class_object or class_scene, not {task!r}")
        y = torch.softmax(3 * torch.randn(len(y), NASLIB_CLASSES[task], generator=torch.Generator().manual_seed(SEED)), dim=1)
    return Batch(base.x.contiguous(), y, f"{base.source} [{name}]", True, SEED)


def variant_model(bench: Benchmark, arch: str, task: str, variant: str) -> torch.nn.Module:
    """The run's network, or with NASLib's head: the same encoder weights (built first from the same seed)."""
    if "naslib_head" not in variant:
        return build_model(bench, arch, task, SEED, torch.device("cpu"))
    torch.manual_seed(SEED)
    return task_network(TransNASEncoder(bench.parse(arch)), task, NASLIB_CLASSES).train()


def variant_batch(name: str, task: str, base: Batch, data_root: Path, dataset: Dataset) -> Batch:
    x, y = base.x, base.y
    if name == "surrogate" or name in PER_ARCH_SEED_BASE:  # the per-architecture draws are made in main()
        return base
    if name in NASLIB_VARIANTS:
        return naslib_variant_batch(name, task, base, data_root, dataset)
    if name == "cifar100":
        images, _, _ = load_images(data_root, "cifar100")
        chosen = _pick(len(images), BATCH_SIZE, SEED, "cifar100")
        x = tnb_inputs._normalise(tnb_inputs._resize(images[chosen], IMAGE_SIZE), tnb_inputs.NORM.get(task, tnb_inputs.PIX2PIX_NORM))
    elif name == "noise":
        x = torch.randn(base.x.shape, generator=torch.Generator().manual_seed(SEED))
    elif name == "coarse_targets" and task == "segmentsemantic":
        blocks = torch.randint(0, SEGMENT_CLASSES, (len(y), 1, IMAGE_SIZE // 64, IMAGE_SIZE // 64),
                               generator=torch.Generator().manual_seed(SEED))
        y = _class_map(blocks)
    elif name == "image_targets" and task == "segmentsemantic":
        brightness = x.mean(dim=1)  # (b, H, W), normalised to about [-1, 1]
        edges = torch.quantile(brightness.flatten(), torch.linspace(0, 1, SEGMENT_CLASSES + 1)[1:-1])
        y = torch.bucketize(brightness, edges)
    elif name == "one_class_targets" and task == "segmentsemantic":
        y = torch.zeros_like(y)
    elif name == "skewed_targets" and task == "segmentsemantic":
        gen = torch.Generator().manual_seed(SEED)
        shape = (len(y), 1, IMAGE_SIZE // 16, IMAGE_SIZE // 16)
        blocks = torch.where(torch.rand(shape, generator=gen) < SKEWED_SHARE, 0,
                             torch.randint(1, SEGMENT_CLASSES, shape, generator=gen))
        y = _class_map(blocks)
    elif name == "unit_targets" and task == "normal":
        y = (y + 1) / 2
    elif name == "shared_class" and y.dim() == 2 and y.is_floating_point():
        y = torch.zeros_like(y)
        y[:, 0] = 1.0
    elif name == "flat_targets" and y.dim() == 2 and y.is_floating_point():
        y = torch.full_like(y, 1.0 / y.shape[1])
    else:
        raise SystemExit(f"unknown variant {name!r} for task {task!r}")
    return Batch(x.contiguous(), y, f"{base.source} [{name}]", True, SEED)


def _class_map(blocks: torch.Tensor) -> torch.Tensor:
    """(b, 1, h, w) block classes upsampled (nearest) to the (b, 256, 256) label map."""
    return F.interpolate(blocks.float(), size=(IMAGE_SIZE, IMAGE_SIZE), mode="nearest")[:, 0].long()


def reference_setup(space: str, task: str, reference_path: str, n: str) -> tuple[Path, Benchmark, Dataset, pd.DataFrame]:
    """Data root, benchmark, task and the first ``n`` reference rows of the task (indexed by architecture)."""
    data_root = resolve_data_root(None)
    bench = get_benchmark(f"tnb101_{space}")(data_root)
    reference = pd.read_csv(reference_path)
    reference = reference[reference["dataset"] == task].drop_duplicates("arch_str").head(int(n)).set_index("arch_str")
    return data_root, bench, bench.dataset(task), reference


def main() -> None:
    space, task, reference_path, n, proxies, variants = sys.argv[1:7]
    out_path = sys.argv[7] if len(sys.argv) > 7 else None
    data_root, bench, dataset, reference = reference_setup(space, task, reference_path, n)
    archs = list(reference.index)
    specs = resolve_proxies(proxies.split(","))
    base = task_batches(dataset, data_root, SEED, BATCH_SIZE, 1)[0]
    batches = {v: variant_batch(v, task, base, data_root, dataset) for v in variants.split(",")}
    rows = []
    for number, arch in enumerate(archs, start=1):
        for variant, batch in batches.items():
            if variant in PER_ARCH_SEED_BASE:
                batch = task_batches(dataset, data_root, PER_ARCH_SEED_BASE[variant] + number, BATCH_SIZE, 1)[0]
            model = variant_model(bench, arch, task, variant)
            ctx = ProxyContext(bench, arch, dataset, model, [batch], SEED, torch.device("cpu"), frozenset(s.name for s in specs))
            for spec in specs:
                record = evaluate(spec, ctx)
                rows.append({"arch": arch, "variant": variant, "proxy": spec.name, "score": record.score, "status": record.status})
            ctx.release()
        print(f"{number}/{len(archs)}", file=sys.stderr, flush=True)
        if out_path:  # after every architecture, so a stopped run keeps what it scored
            pd.DataFrame(rows).to_csv(out_path, index=False)
    frame = pd.DataFrame(rows)
    scores = frame.pivot_table(index="arch", columns=["proxy", "variant"], values="score", dropna=False).reindex(archs)
    truth = reference["val_accuracy"].to_numpy(dtype=float)
    naslib_column = {ours: theirs for theirs, ours in REFERENCE_NAMES.items()}
    print(f"{space} {task}, first {len(archs)} architectures of the reference list, seed {SEED}, batch {BATCH_SIZE}")
    print("| proxy | variant | vs surrogate | vs NASLib | SPR ours | SPR NASLib |\n|---|---|---|---|---|---|")
    for spec in specs:
        theirs = reference[naslib_column.get(spec.name, spec.name)].to_numpy(dtype=float) if naslib_column.get(
            spec.name, spec.name) in reference.columns else np.full(len(archs), np.nan)
        theirs = np.where(theirs <= -1e8, np.nan, theirs)  # NASLib's failure value
        for variant in batches:
            ours = scores[(spec.name, variant)].to_numpy(dtype=float)
            cells = [_agree(ours, scores[(spec.name, "surrogate")].to_numpy(dtype=float)) if "surrogate" in batches else "–",
                     _agree(ours, theirs), _agree(ours, truth), _agree(theirs, truth)]
            print(f"| {spec.name} | {variant} | " + " | ".join(cells) + " |")
        if set(PER_ARCH_SEED_BASE) <= set(batches):
            pair = [scores[(spec.name, v)].to_numpy(dtype=float) for v in PER_ARCH_SEED_BASE]
            print(f"| {spec.name} | per_arch_batch vs per_arch_batch2 | {_agree(*pair)} | | | |")


def _agree(a: np.ndarray, b: np.ndarray) -> str:
    ok = np.isfinite(a) & np.isfinite(b)
    return f"{spearman(a[ok], b[ok]):.3f}" if ok.sum() >= 3 else "–"


if __name__ == "__main__":
    main()

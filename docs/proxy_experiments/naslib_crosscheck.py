"""Run NASLib's own TransNAS networks and zero-cost code on our surrogate batch: implementation or data?

Usage: python docs/proxy_experiments/naslib_crosscheck.py NASLIB_CHECKOUT SPACE TASK REFERENCE.csv N PROXIES [OUT.csv]

NASLIB_CHECKOUT is a clone of https://github.com/automl/NASLib (read and run here, nothing of it is
copied into this project). SPACE is micro or macro, REFERENCE.csv the file ``python -m
nasproxy_bench.adapters.transnas.reference SPACE`` writes, N how many of its TASK architectures to score
(the first N, as the ``run --arch-list`` runs do), PROXIES our names of the Suite-Zero proxies
(snip, grad_norm, fisher, grasp, jacob_cov, plain, synflow, l2_norm, naswot).

For every architecture it scores, on the same seed-0, batch-8 surrogate batch (on class_object and
class_scene with NASLib's 100 / 63-class heads and soft labels over those classes, the
``naslib_head`` variant of ``surrogate_swap.py``, since NASLib's networks have those heads):

- ``ours``: our network and our proxy (exactly what ``run`` stores);
- ``naslib``: NASLib's network (its ``tnb101/model_builder.create_model``, the official TransNAS-Bench
  builder NASLib's zero-cost runner uses, built after ``torch.manual_seed(0)``) and NASLib's measure
  (``predictive.find_measures`` with the loss of ``TransBench101SearchSpace*.get_loss_fn``).

NASLib's released scores came from NASLib's code on Taskonomy batches. So if ``naslib`` on our batch
agrees with ``ours`` as closely as two of our seeds agree with each other, our implementation computes
what NASLib's does and a remaining gap to the released scores lies in the data; if it agrees with the
released scores clearly better than ``ours`` does, the gap is in our networks or proxies.

NASLib's package ``__init__`` files import its whole framework; only the modules needed here are
loaded (empty parent packages are registered first), and ``torchvision.models`` and ``tensorwatch``
(imported by the encoder and the FLOP-counting modules, not used by the code run here) are stubbed when
they are not installed.
"""
import importlib
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from nasproxy_bench.adapters.transnas.decoders import NASLIB_CLASSES
from nasproxy_bench.compare import REFERENCE_NAMES
from nasproxy_bench.proxies.base import ProxyContext
from nasproxy_bench.runner import evaluate, resolve_proxies, task_batches

sys.path.insert(0, str(Path(__file__).resolve().parent))
from surrogate_swap import _agree, naslib_variant_batch, reference_setup, variant_model  # noqa: E402  (a sibling script)

SEED, BATCH_SIZE = 0, 8
SUITE_ZERO = ("snip", "grad_norm", "fisher", "grasp", "jacob_cov", "plain", "synflow", "l2_norm", "naswot")
NASLIB_MEASURE = {name: {ours: theirs for theirs, ours in REFERENCE_NAMES.items()}.get(name, name) for name in SUITE_ZERO}


def load_naslib(checkout: Path) -> tuple[types.ModuleType, types.ModuleType, types.ModuleType]:
    """NASLib's TransNAS model builder, its ``predictive`` module and its TransNAS loss module."""
    root = checkout / "naslib"
    if not (root / "search_spaces" / "transbench101" / "tnb101" / "model_builder.py").is_file():
        raise SystemExit(f"{checkout} is not a NASLib checkout (no naslib/search_spaces/transbench101/tnb101)")
    for name, path in [("naslib", root), ("naslib.predictors", root / "predictors"),
                       ("naslib.search_spaces", root / "search_spaces")]:
        package = types.ModuleType(name)
        package.__path__ = [str(path)]
        sys.modules[name] = package
    for optional in ("torchvision.models", "tensorwatch"):  # imported, not used by the code run here
        try:
            importlib.import_module(optional)
        except ImportError:
            parts = optional.split(".")
            for depth in range(1, len(parts) + 1):
                sys.modules.setdefault(".".join(parts[:depth]), types.ModuleType(".".join(parts[:depth])))
    sys.modules["tensorwatch"].ModelStats = getattr(sys.modules["tensorwatch"], "ModelStats", object)  # an annotation
    sys.path.insert(0, str(root / "search_spaces" / "transbench101" / "tnb101"))  # cell_micro imports `models.`
    builder = importlib.import_module("naslib.search_spaces.transbench101.tnb101.model_builder")
    predictive = importlib.import_module("naslib.predictors.utils.pruners.predictive")
    losses = importlib.import_module("naslib.search_spaces.transbench101.loss")
    return builder, predictive, losses


def naslib_loss(losses: types.ModuleType, task: str):
    """The loss NASLib's ``get_loss_fn`` gives the task (graph.py of transbench101)."""
    if task in ("class_object", "class_scene"):
        return losses.SoftmaxCrossEntropyWithLogits()
    if task in ("autoencoder", "normal"):
        return nn.L1Loss()
    if task == "room_layout":
        return nn.MSELoss()
    return F.cross_entropy


class _Wrapped(nn.Module):
    """NASLib's ``_wrap_model`` in effect: in-place ReLUs made out-of-place, the model as one submodule."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        for module in model.modules():
            if isinstance(module, nn.ReLU):
                module.inplace = False
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def naslib_network(builder, arch: str, task: str) -> nn.Module:
    """NASLib's network of ``arch``, built from the same seed as ours (same weights)."""
    torch.manual_seed(SEED)
    return _Wrapped(builder.create_model(arch, task)).train()


def naslib_score(predictive, loss, net: nn.Module, measure: str, x: torch.Tensor, y: torch.Tensor,
                 num_classes: int) -> float:
    """One NASLib measure (``find_measures`` returns one value; every measure but l2_norm scores a copy)."""
    value = predictive.find_measures(net, [(x, y)], ("random", 1, num_classes), torch.device("cpu"), loss,
                                     measure_names=[measure])
    return float(value)


def main() -> None:
    checkout, space, task, reference_path, n, proxies = sys.argv[1:7]
    out_path = sys.argv[7] if len(sys.argv) > 7 else None
    builder, predictive, losses = load_naslib(Path(checkout))
    loss = naslib_loss(losses, task)
    data_root, bench, dataset, reference = reference_setup(space, task, reference_path, n)
    archs = list(reference.index)
    specs = resolve_proxies(proxies.split(","))
    unknown = [s.name for s in specs if s.name not in NASLIB_MEASURE]
    if unknown:
        raise SystemExit(f"no NASLib measure for {unknown}; use {sorted(NASLIB_MEASURE)}")
    batch = task_batches(dataset, data_root, SEED, BATCH_SIZE, 1)[0]
    variant = "naslib_head" if task in NASLIB_CLASSES else "surrogate"  # NASLib's 100 / 63-class heads
    if variant == "naslib_head":
        batch = naslib_variant_batch(variant, task, batch, data_root, dataset)
    num_classes = NASLIB_CLASSES.get(task, dataset.num_outputs)
    rows = []
    for number, arch in enumerate(archs, start=1):
        model = variant_model(bench, arch, task, variant)
        naslib_net = naslib_network(builder, arch, task)
        ctx = ProxyContext(bench, arch, dataset, model, [batch], SEED, torch.device("cpu"), frozenset(s.name for s in specs))
        for spec in specs:
            ours = evaluate(spec, ctx).score
            try:
                theirs = naslib_score(predictive, loss, naslib_net, NASLIB_MEASURE[spec.name], batch.x.clone(),
                                      batch.y.clone(), num_classes)
            except (RuntimeError, ValueError, AssertionError, IndexError, TypeError, AttributeError) as error:  # NASLib's code failing
                print(f"{arch} {spec.name}: NASLib's code raised {type(error).__name__}: {error}", file=sys.stderr)
                theirs = float("nan")
            rows.append({"arch": arch, "proxy": spec.name, "ours": ours, "naslib_code": theirs})
        ctx.release()
        print(f"{number}/{len(archs)}", file=sys.stderr, flush=True)
        if out_path:
            pd.DataFrame(rows).to_csv(out_path, index=False)
    frame = pd.DataFrame(rows)
    truth = reference["val_accuracy"].to_numpy(dtype=float)
    print(f"{space} {task}, first {len(archs)} architectures of the reference list, seed {SEED}, batch {BATCH_SIZE}")
    print("| proxy | max relative difference, ours vs NASLib code | NASLib code vs ours | ours vs released | "
          "NASLib code vs released | SPR ours | SPR NASLib code | SPR released |\n|---|---|---|---|---|---|---|---|")
    for spec in specs:
        part = frame[frame["proxy"] == spec.name].set_index("arch").reindex(archs)
        ours, code = part["ours"].to_numpy(dtype=float), part["naslib_code"].to_numpy(dtype=float)
        column = NASLIB_MEASURE[spec.name]
        released = reference[column].to_numpy(dtype=float) if column in reference else np.full(len(archs), np.nan)
        released = np.where(released <= -1e8, np.nan, released)  # NASLib's failure value
        both = np.isfinite(ours) & np.isfinite(code)
        gap = np.abs(ours[both] - code[both]) / np.maximum(np.abs(code[both]), 1e-30)
        exact = f"{gap.max():.1e} ({both.sum()} of {len(archs)})" if both.any() else "–"
        cells = [exact, _agree(code, ours), _agree(ours, released), _agree(code, released),
                 _agree(ours, truth), _agree(code, truth), _agree(released, truth)]
        print(f"| {spec.name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

"""Tasks as part of the API: what a proxy needs from a dataset beyond the network.

A ``Dataset`` (``nasproxy_bench.benchmark``) carries a ``TaskIO`` in ``Dataset.io``. The task owns

- ``batches(...)``: the fixed input/target minibatches of a run (one set per seed and batch size),
- ``output(raw)``: how the network's raw output is read (logits, a dense map, token logits...),
- ``loss(output, target)``: the mean training loss over the batch (what gradient proxies
  differentiate); it must also accept a batch of one (per-sample proxies call it per example),
- ``class_labels(target)``: one class per sample where the task has classes (EPE-NAS groups by
  them), else None,
- ``differentiable_input``: False where inputs are token ids (Jacobian proxies then differentiate
  w.r.t. the network's embedding output, ``networks.EmbeddedInput``, or do not apply).

Proxies never branch on the benchmark: gradient and Jacobian proxies call these methods;
activation proxies read the encoder (``nasproxy_bench.networks.encode``). A proxy that cannot
apply to a task raises ``UnsupportedNetwork`` and is recorded as ``unsupported``.

Adding a task: subclass ``TaskIO`` (or reuse one below), give it a ``BatchSource`` when its
inputs are not the image batches of ``nasproxy_bench.inputs``, and set it as ``Dataset.io``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from nasproxy_bench.inputs import Batch, fixed_batches


class TaskKind(str, Enum):
    CLASSIFICATION = "classification"
    DENSE = "dense_prediction"
    SEQUENCE = "sequence"
    REGRESSION = "regression"


# (data_root, dataset name, seed, batch size, count) -> ``count`` disjoint batches; the first
# batch must depend only on (dataset, seed, batch size).
BatchSource = Callable[[Path, str, int, int, int], list[Batch]]


class TaskIO(ABC):
    """What proxies need from a task. Subclasses implement ``loss``; the rest has defaults."""

    kind: TaskKind = TaskKind.CLASSIFICATION
    differentiable_input: bool = True

    def __init__(self, source: BatchSource | None = None) -> None:
        self.source = source or fixed_batches

    def batches(self, data_root: Path, dataset: str, seed: int, batch_size: int, count: int = 1) -> list[Batch]:
        """The ``count`` fixed minibatches every architecture of a run sees."""
        if count == 0:
            return []
        return self.source(Path(data_root), dataset, seed, batch_size, count)

    def constant_input(self, input_shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
        """A data-free probe input of one example (SynFlow's all-ones input)."""
        return torch.ones((1, *input_shape), dtype=dtype, device=device)

    def output(self, raw: Any) -> torch.Tensor:
        """The tensor the loss and the output-based proxies read (first element of a tuple output)."""
        return raw[0] if isinstance(raw, (tuple, list)) else raw

    @abstractmethod
    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean loss over the batch (scalar)."""

    def class_labels(self, target: torch.Tensor) -> torch.Tensor | None:
        """One integer class per sample, or None where the task has no per-sample class."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Classification(TaskIO):
    """Integer labels, (batch, classes) logits, mean cross-entropy: the NB201 setting."""

    kind = TaskKind.CLASSIFICATION

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.dim() != 2:
            raise ValueError(f"expected (batch, classes) logits, got shape {tuple(output.shape)}")
        return F.cross_entropy(output, target)

    def class_labels(self, target: torch.Tensor) -> torch.Tensor:
        return target


class SoftLabelClassification(TaskIO):
    """Targets are class distributions (batch, classes); loss −Σ p log(softmax(z) + 1e-5).

    The epsilon is that of TransNAS-Bench-101's ``SoftmaxCrossEntropyWithLogits``.
    """

    kind = TaskKind.CLASSIFICATION
    EPS = 1e-5

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.shape != target.shape:
            raise ValueError(f"logits {tuple(output.shape)} and soft targets {tuple(target.shape)} differ in shape")
        return -(target * torch.log(F.softmax(output, dim=-1) + self.EPS)).sum(dim=-1).mean()

    def class_labels(self, target: torch.Tensor) -> torch.Tensor:
        return target.argmax(dim=-1)


class Regression(TaskIO):
    """Real-valued targets of the output's shape; mean squared error."""

    kind = TaskKind.REGRESSION

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output, target)


class PixelClassification(TaskIO):
    """(batch, classes, H, W) logits against (batch, H, W) integer maps; mean pixel cross-entropy."""

    kind = TaskKind.DENSE

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.dim() != 4:
            raise ValueError(f"expected (batch, classes, H, W) logits, got shape {tuple(output.shape)}")
        return F.cross_entropy(output, target)


class ImageToImage(TaskIO):
    """Dense maps of the output's shape (reconstruction, surface normals); mean L1 error."""

    kind = TaskKind.DENSE

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.l1_loss(output, target)


class LanguageModel(TaskIO):
    """Token ids in, (batch, time, vocab) logits out (or a tuple whose first entry they are).

    Targets are (batch, time) next-token ids; loss is the mean token cross-entropy. Inputs are
    integers: input-Jacobian proxies read the network's embedding output instead
    (``nasproxy_bench.networks.EmbeddedInput``).
    """

    kind = TaskKind.SEQUENCE
    differentiable_input = False

    def constant_input(self, input_shape: tuple[int, ...], dtype: torch.dtype, device: torch.device | str) -> torch.Tensor:
        """Token id 1 everywhere (ids are integers whatever the proxy's float type)."""
        return torch.ones((1, *input_shape), dtype=torch.long, device=device)

    def loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if output.dim() != 3:
            raise ValueError(f"expected (batch, time, vocab) logits, got shape {tuple(output.shape)}")
        return F.cross_entropy(output.reshape(-1, output.shape[-1]), target.reshape(-1))


def default_io(kind: TaskKind) -> TaskIO | None:
    """The task a dataset gets when it declares none: integer-label classification, or nothing."""
    return Classification() if kind is TaskKind.CLASSIFICATION else None

"""What a proxy is: a function of a ``ProxyContext`` plus declared metadata (``ProxySpec``).

A proxy must not modify ``ctx.model``; a proxy that needs to change weights, BatchNorm or
dtype works on ``ctx.fresh_model()`` (a deep copy). Work that several proxies need (one
forward/backward on the batch, for example) is computed once per architecture through
``ctx.shared``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from nasproxy_bench.benchmark import Benchmark, Dataset, Direction, TaskKind
from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.inputs import Batch
from nasproxy_bench.tasks import TaskIO

ALL_TASKS = frozenset(TaskKind)

FAMILIES = ("structural", "gradient", "activation", "jacobian", "topology", "ensemble", "gennas")


@dataclass(frozen=True)
class ProxySpec:
    """A registered proxy and the facts a user needs to interpret its scores.

    Attributes:
        name: registry name (what ``--proxies`` takes).
        fn: ``fn(ctx) -> float``; raises ``UnsupportedNetwork`` where it does not apply.
        family: one of ``FAMILIES``.
        version: bumped whenever the math changes; part of the result-store key.
        direction: whether a higher score predicts a better network.
        needs_data: uses the minibatch images (False: all-ones or Gaussian inputs, or none).
        needs_labels: uses the minibatch labels.
        bn: BatchNorm handling: "train" (batch statistics), "off" (BN made identity), "none".
        dtype: floating type of the computation.
        n_batches: minibatches consumed (ZiCo needs two).
        tasks: task kinds the proxy supports (a task kind outside it records ``unsupported``
            without running); within them, a proxy reads the task through ``ctx.task``.
        log_scale: the stored score is the natural log of the quantity in the paper.
        description: one line for ``nasproxy-bench list``.
        derived_from: for ensembles, the proxies whose stored scores it combines; such a proxy
            is not run per network but computed by the report from ``combine(scores, signs)``.
        opt_in: too expensive for the default suite: ``--proxies all`` leaves it out and it
            runs only when asked for by name (``nasproxy-bench list`` marks it).
    """

    name: str
    fn: Callable[[ProxyContext], float]
    family: str
    version: str
    direction: Direction = Direction.HIGHER
    needs_data: bool = True
    needs_labels: bool = False
    bn: str = "train"
    dtype: str = "float32"
    n_batches: int = 1
    tasks: frozenset[TaskKind] = frozenset({TaskKind.CLASSIFICATION})
    log_scale: bool = False
    description: str = ""
    derived_from: tuple[str, ...] = ()
    combine: Callable[[list[np.ndarray], list[float]], np.ndarray] | None = None
    opt_in: bool = False

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"proxy {self.name}: family must be one of {FAMILIES}")


@dataclass
class ProxyContext:
    """Everything a proxy may look at for one architecture of a run."""

    benchmark: Benchmark
    arch: str
    dataset: Dataset
    model: nn.Module
    batches: list[Batch]
    seed: int
    device: torch.device
    requested: frozenset[str] = frozenset()  # proxies of this run (lets shared passes plan)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def batch(self) -> Batch:
        if not self.batches:
            raise UnsupportedNetwork(f"dataset {self.dataset.name} provides no input batches")
        return self.batches[0]

    @property
    def task(self) -> TaskIO:
        """The dataset's task contract: loss, output reading, class labels (``nasproxy_bench.tasks``)."""
        return self.dataset.task_io

    def fresh_model(self) -> nn.Module:
        """A deep copy of the initialised network, free for the proxy to modify."""
        return copy.deepcopy(self.model)

    def resized_model(self, repeat: int, **size: Any) -> nn.Module:
        """A newly initialised copy of the architecture at another size (``Benchmark.build_resized``), in train mode.

        Its initialisation depends only on the run seed and ``repeat``, and leaves torch's
        global RNG as it was. Raises ``UnsupportedNetwork`` where the space does not build one.
        """
        return self._seeded_build(repeat, lambda: self.benchmark.build_resized(self.arch, self.dataset.name, **size))

    def model_variant(self, *, channels: int | None = None, cell_bn: str = "standard", dropouts: str = "none") -> nn.Module:
        """A newly initialised variant of the network (``Benchmark.build_variant``: another first-stage width,
        another cell BatchNorm, training dropouts), in train mode.

        Initialised like ``resized_model(0)``; raises ``UnsupportedNetwork`` where the space has no such variant.
        """
        return self._seeded_build(0, lambda: self.benchmark.build_variant(
            self.arch, self.dataset.name, channels=channels, cell_bn=cell_bn, dropouts=dropouts))

    def _seeded_build(self, repeat: int, build: Callable[[], nn.Module]) -> nn.Module:
        return seeded_build(self.seed, repeat, build).to(self.device).train()

    def shared(self, name: str, compute: Callable[[], Any]) -> Any:
        """Memoise ``compute()`` under ``name`` for the other proxies of this architecture."""
        if name not in self.cache:
            self.cache[name] = compute()
        return self.cache[name]

    def release(self) -> None:
        """Drop what the proxies shared, once the architecture is scored.

        A shared value may refer back to this context (the per-sample network does), and such a
        cycle would hold its tensors until Python's next cyclic garbage collection: on NB-NLP
        runs, GBs of earlier architectures' networks and gradients stayed resident.
        """
        self.cache.clear()


def seeded_build(seed: int, repeat: int, build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` under torch seed ``seed * 1_000_003 + repeat``, leaving the global RNG as it was.

    How ``ProxyContext`` initialises the variants and resized copies of a network.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed * 1_000_003 + repeat)
        return build()


def reinit_weights(model: nn.Module, draw: Callable[[torch.Tensor], object]) -> None:
    """Re-initialise in place as proxies that fix their own init do (SWAP, AZ-NAS).

    ``draw(weight)`` fills every conv/linear weight; their biases become 0, and affine
    BatchNorm/GroupNorm layers get scale 1 and shift 0.
    """
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                draw(m.weight)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.weight is not None:
                m.weight.fill_(1.0)
                m.bias.zero_()

"""GenNAS evaluation: train a copy of the network for a few iterations to regress synthetic targets.

Heads (public code ``model_wrapper.py``): stage output -> nearest-neighbour resize to 8x8 when
larger -> BatchNorm -> 1x1 conv to the stage's target channels. Optimiser (public code
``builder_evaluator.py``, ``utils/tricks.py:get_parameters``): SGD with the task's lr and
momentum; weight decay on weight tensors with more than one dimension only (not on biases or
BatchNorm). Every iteration sees the same images plus fresh input noise; the score is the
eval-mode loss after the last iteration, sum_i w_i MSE_i with w = (1/4, 1/2, 1) by default.
Lower is better. A run whose loss is not finite (diverged) scores +inf: ranked worst, as the
public code's 1e3 + noise stand-in intends, but visibly.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from nasproxy_bench.errors import UnsupportedNetwork
from nasproxy_bench.gennas.signals import SIZE, noise
from nasproxy_bench.gennas.targets import stage_targets
from nasproxy_bench.gennas.task import N_STAGES, Task
from nasproxy_bench.networks import StagedNetwork

BATCH = 16  # paper Sec. 4 / public code default --batch_size
# BatchNorm running-statistics momentum during the regression: PyTorch's default, which every network
# of the public code uses (plain ``nn.BatchNorm2d``). The score is read in eval mode after 100
# iterations, so the running statistics must have followed the batch: with NB101's official TF
# momentum (PyTorch 0.003) they would still be 74% the initial (0, 1) and the eval loss meaningless.
BN_MOMENTUM = 0.1


def _fit(feature: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    return feature if feature.shape[-2:] == (size, size) else F.interpolate(feature, size=(size, size))


def input_scale(stage_sizes: list[int], size: int = SIZE) -> int:
    """Integer upsampling of the input so the deepest stage is at least ``size`` wide.

    The public code upsamples 16x16 ImageNet16 images to 32x32 so that the last stage is 8x8;
    this is the same rule stated for any network (1 when nothing is needed).
    """
    smallest = min(stage_sizes)
    return 1 if smallest >= size else math.ceil(size / smallest)


def use_regression_bn_momentum(net: nn.Module) -> int:
    """Set every BatchNorm's momentum to ``BN_MOMENTUM`` (on the proxy's own copy); returns how many changed."""
    changed = 0
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.momentum != BN_MOMENTUM:
            module.momentum = BN_MOMENTUM
            changed += 1
    return changed


def make_heads(channels_in: list[int], channels_out: list[int], seed: int) -> nn.ModuleList:
    """BatchNorm + 1x1 conv per stage (an ``nn.Identity`` where the stage is unused), seeded."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c_in), nn.Conv2d(c_in, c_out, 1)) if c_out else nn.Identity()
            for c_in, c_out in zip(channels_in, channels_out, strict=True)
        )


def param_groups(modules: list[nn.Module], weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for module in modules:
        for name, p in module.named_parameters():
            (decay if name.endswith("weight") and p.dim() > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def weighted_mse(preds: dict[int, torch.Tensor], targets: list[torch.Tensor | None], weights: tuple[float, ...]) -> torch.Tensor:
    """sum_i w_i MSE(pred_i, F*_i) over the stages that have a prediction (mean over all elements)."""
    terms = [weights[i] * F.mse_loss(pred, targets[i]) for i, pred in sorted(preds.items())]
    return torch.stack(terms).sum()


class Regressor:
    """A network plus its GenNAS heads, bound to one task, image batch and seed."""

    def __init__(self, net: nn.Module, images: torch.Tensor, task: Task, seed: int) -> None:
        if not isinstance(net, StagedNetwork):
            raise UnsupportedNetwork(f"{type(net).__name__} exposes no stage_outputs (not a StagedNetwork)")
        self.net, self.task, self.seed = net, task, seed
        use_regression_bn_momentum(net)
        device = images.device
        with torch.no_grad():
            was_training = net.training
            net.eval()
            shapes = [o.shape for o in net.stage_outputs(images[:1])]
            scale = input_scale([min(s[-2:]) for s in shapes])
            if scale > 1:
                images = F.interpolate(images, scale_factor=scale)
                shapes = [o.shape for o in net.stage_outputs(images[:1])]
            net.train(was_training)
        if len(shapes) < N_STAGES and any(i < N_STAGES - len(shapes) for i in task.used_stages):
            raise UnsupportedNetwork(f"the task uses S1..S{N_STAGES} but the network has {len(shapes)} stages")
        self.offset = len(shapes) - N_STAGES  # S_i is stage offset + i of the network
        used = set(task.used_stages)
        c_in = [int(shapes[self.offset + i][1]) if i in used else 0 for i in range(N_STAGES)]
        c_out = [task.stage_channels(i) for i in range(N_STAGES)]
        self.heads = make_heads(c_in, c_out, seed).to(device)
        self.images = images
        self.gen = torch.Generator().manual_seed(seed)
        self.targets = [t.to(device) if t is not None else None for t in stage_targets(task, images, self.gen)]

    def loss(self, weights: tuple[float, ...]) -> torch.Tensor:
        task = self.task
        x = self.images
        if task.noise_type != "none" and task.noise_level > 0:
            x = x + noise(tuple(x.shape), task.noise_type, task.noise_level, self.gen).to(x.device)
        outs = self.net.stage_outputs(x)
        preds = {i: self.heads[i](_fit(outs[self.offset + i])) for i in task.used_stages}
        return weighted_mse(preds, self.targets, weights)

    def train(self, eval_every: int | None = None) -> list[float]:
        """Run the task's iterations; with ``eval_every``, also return the eval loss every that many
        iterations (the public code's ``eval_interval``; each check draws fresh input noise, so a
        noisy task's later losses differ from a run without checks)."""
        t = self.task.training
        optimizer = torch.optim.SGD(param_groups([self.net, self.heads], t.weight_decay), lr=t.lr, momentum=t.momentum)
        curve = []
        for step in range(1, t.iterations + 1):
            self.net.train()
            self.heads.train()
            optimizer.zero_grad(set_to_none=True)
            self.loss(self.task.train_weights).backward()
            optimizer.step()
            if eval_every and step % eval_every == 0:
                curve.append(self.evaluate())
        return curve

    def evaluate(self) -> float:
        self.net.eval()
        self.heads.eval()
        with torch.no_grad():
            value = float(self.loss(self.task.eval_weights))
        return value if math.isfinite(value) else math.inf


def regression_score(net: nn.Module, images: torch.Tensor, task: Task, seed: int) -> float:
    """Train ``net`` (modified in place: pass a copy) on ``task`` and return the eval loss."""
    regressor = Regressor(net, images, task, seed)
    regressor.train()
    return regressor.evaluate()

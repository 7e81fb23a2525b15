"""What every CNN builder exposes beyond ``forward``: the outputs of its resolution stages.

GenNAS attaches its regression heads to the feature map at the end of each resolution stage;
other consumers (Zen-score, task-aware encoders) read the same maps. Builders subclass
``StagedNetwork`` and implement ``stage_outputs`` once, so no consumer needs to know the space.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn


class StagedNetwork(nn.Module):
    """A network whose body is a sequence of resolution stages (stride-2 steps between them)."""

    @abstractmethod
    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at the end of each resolution stage, shallowest first (classifier not run)."""

    def block_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps after the stem and after every block (cell), in one differentiable pass.

        AZ-NAS scores consecutive pairs of these maps. The default is the stage outputs; a
        builder whose body is a chain of cells overrides it to expose every cell.
        """
        return self.stage_outputs(x)

    def stage_channels(self, input_shape: tuple[int, ...]) -> list[int]:
        """Channel count of each stage output for one input of ``input_shape`` (C, H, W)."""
        with torch.no_grad():
            was_training = self.training
            self.eval()
            try:
                param = next(self.parameters(), None)
                device = param.device if param is not None else torch.device("cpu")
                outs = self.stage_outputs(torch.zeros(1, *input_shape, device=device))
            finally:
                self.train(was_training)
        return [int(o.shape[1]) for o in outs]


class EncoderDecoder(StagedNetwork):
    """A task network: a ``StagedNetwork`` encoder followed by a task decoder (head).

    ``forward`` is what the task's loss scores; ``encode`` is what activation proxies (NASWOT,
    Zen, NLR) and GenNAS read: the searched encoder without the task-specific decoder, as
    NAS-Bench-Suite-Zero applies them to TransNAS-Bench-101. Override ``encode`` when the
    encoder runs more than once per example (e.g. the 9 tiles of a jigsaw puzzle).
    """

    def __init__(self, encoder: StagedNetwork, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))

    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder.stage_outputs(x)

    def block_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder.block_outputs(x)


def encoder_module(model: nn.Module) -> nn.Module:
    """The part of ``model`` that activation proxies score: the encoder of a task network, else all of it."""
    return model.encoder if isinstance(model, EncoderDecoder) else model


def encode(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Run the encoder of a task network (``EncoderDecoder.encode``), or the whole network otherwise."""
    return model.encode(x) if isinstance(model, EncoderDecoder) else model(x)


@runtime_checkable
class EmbeddedInput(Protocol):
    """A network whose inputs are discrete (token ids) and first pass through an embedding.

    ``forward(x)`` must equal ``forward_embedded(embed(x))``. Input-Jacobian proxies (jacob_cov)
    then differentiate w.r.t. the embedding's output, the first real-valued tensor of the
    network, where a task's inputs themselves are not differentiable
    (``TaskIO.differentiable_input`` False).
    """

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding of ``x``: a float tensor with the batch first."""
        ...

    def forward_embedded(self, embedded: torch.Tensor) -> Any:
        """The rest of the network, from the output of ``embed``."""
        ...

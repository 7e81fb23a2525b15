"""What every CNN builder exposes beyond ``forward``: the outputs of its resolution stages.

GenNAS attaches its regression heads to the feature map at the end of each resolution stage;
other consumers (Zen-score, task-aware encoders) read the same maps. Builders subclass
``StagedNetwork`` and implement ``stage_outputs`` once, so no consumer needs to know the space.
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import nn


class StagedNetwork(nn.Module):
    """A network whose body is a sequence of resolution stages (stride-2 steps between them)."""

    @abstractmethod
    def stage_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps at the end of each resolution stage, shallowest first (classifier not run)."""

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

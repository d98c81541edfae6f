"""``DMCPBatchNorm2d``: DMCP's batch norm, scaling channels by their keep probability."""
from typing import Callable, Optional

import torch

from mmrazor.registry import MODELS

from .dynamic_norm import DynamicBatchNorm2d

KeepProbs = Callable[[], Optional[torch.Tensor]]


@MODELS.register_module()
class DMCPBatchNorm2d(DynamicBatchNorm2d):
    """A ``DynamicBatchNorm2d`` whose output channels can be weighted by the
    probabilities that DMCP's Markov process keeps them.

    While the architecture parameters train, a channel's output is multiplied by its
    keep probability, so the task loss reaches the parameters (DMCP's differentiable
    relaxation of the width). ``set_forward_args(keep_probs)`` gives the source: a
    callable returning a probability per channel of the layer, or None when no
    weighting applies (weight training, evaluation). It is not a submodule, so the
    probabilities' parameters stay with their owner (the mutator).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._keep_probs: Optional[KeepProbs] = None

    def set_forward_args(self, keep_probs: Optional[KeepProbs]) -> None:
        """Weight the output channels by ``keep_probs()`` (None: never)."""
        self._keep_probs = keep_probs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        probs = self._keep_probs() if self._keep_probs is not None else None
        if probs is None:
            return out
        mask = self.out_mask()
        probs = probs if mask is None else probs[mask.to(probs.device)]
        return out * probs.to(out.dtype).view(1, -1, 1, 1)

"""Observers that give the initial step size of LSQ (Esser et al., ICLR 2020).

Paper: Learned Step Size Quantization, https://arxiv.org/abs/1902.08153. The step
size (scale) starts at ``2 * mean(|x|) / sqrt(quant_max)``, computed on the weights or
on a batch of activations.
"""
import math
from typing import Optional, Tuple

import torch
from mmengine import dist
from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

from mmrazor.registry import MODELS


class LSQObserverMixIn:
    """Track ``mean(|x|)`` of the last tensor besides what the MinMax parent tracks.

    ``calculate_qparams()`` returns the LSQ initial scale ``2 * mean(|x|) /
    sqrt(quant_max)`` and the zero point the parent gives for the qscheme. Put it
    before the MinMax observer among the bases; subclasses say how to average.
    """

    training: bool
    tensor_norm: Optional[torch.Tensor]
    quant_max: int
    eps: torch.Tensor
    min_val: torch.Tensor

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tensor_norm = None

    def _abs_mean(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x_orig: torch.Tensor) -> torch.Tensor:
        """Record the running min/max and the mean absolute value of ``x_orig``."""
        if x_orig.numel() == 0:
            return x_orig
        super().forward(x_orig)
        norm = self._abs_mean(x_orig.detach().to(self.min_val.dtype))
        # Under DDP every rank runs the training forward, so the ranks can agree on one
        # initial scale; evaluation or export may run on one rank only, hence no
        # collective call there.
        if self.training:  # a no-op when not distributed
            dist.all_reduce(norm, op='mean')
        self.tensor_norm = norm
        return x_orig

    def calculate_qparams(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(scale, zero_point)``: the LSQ initial scale, MinMax's zero point."""
        if self.tensor_norm is None:  # before the parent, which only warns
            raise RuntimeError(f'{type(self).__name__} has observed no tensor yet; run it '
                               'on data (weights or a batch) before calculate_qparams()')
        scale = 2 * self.tensor_norm / math.sqrt(self.quant_max)
        # An all-zero tensor would give scale 0 and divide by zero in fake-quant.
        scale = torch.clamp(scale, min=self.eps.item()).reshape(-1)
        return scale, super().calculate_qparams()[1]


@MODELS.register_module()
class LSQObserver(LSQObserverMixIn, MinMaxObserver):
    """MinMaxObserver that also tracks ``mean(|x|)`` of the last tensor for LSQ.

    Arguments are those of ``torch.ao.quantization.MinMaxObserver``.
    """

    def _abs_mean(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs().mean()


@MODELS.register_module()
class LSQPerChannelObserver(LSQObserverMixIn, PerChannelMinMaxObserver):
    """PerChannelMinMaxObserver that also tracks ``mean(|x|)`` per channel for LSQ.

    The mean is taken over all dimensions but ``ch_axis``. Arguments are those of
    ``torch.ao.quantization.PerChannelMinMaxObserver``.
    """

    def _abs_mean(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(0, self.ch_axis).flatten(start_dim=1).abs().mean(dim=1)

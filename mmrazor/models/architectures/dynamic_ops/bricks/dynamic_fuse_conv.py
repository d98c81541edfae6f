"""``FuseConv2d``: DCFF's dynamic conv, whose kept filters are fusions of all filters.

DCFF (Lin et al., "Training Compact CNNs via Dynamic-Coded Filter Fusion") gives each
filter ``w_i`` a distribution over all filters, ``p_i(j) = softmax_j(-||w_i - w_j|| /
t)``, keeps the filters whose distributions differ most from the others (largest
summed KL divergence) and computes kept filter ``i`` as ``sum_j p_i(j) w_j``. The
temperature ``t`` falls during training, so the fused filters end as the kept filters
themselves and the compact model loses nothing when it drops the others.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .dynamic_conv import DynamicConv2d


def filter_log_distributions(weight: torch.Tensor, temperature: float) -> torch.Tensor:
    """``log p_i(j)`` for every pair of filters of ``weight`` (``(out, ...)``)."""
    if temperature <= 0:
        raise ValueError(f'the fusion temperature must be > 0, got {temperature}')
    filters = weight.detach().flatten(1).float()
    return F.log_softmax(-torch.cdist(filters, filters) / temperature, dim=1)


def kl_scores(log_p: torch.Tensor) -> torch.Tensor:
    """``sum_j KL(p_i || p_j)`` for each filter ``i``: how distinct it is."""
    p = log_p.exp()
    # = n * sum_c p_i(c) log p_i(c) - sum_c p_i(c) sum_j log p_j(c), in O(n^2)
    return len(p) * (p * log_p).sum(1) - p @ log_p.sum(0)


@MODELS.register_module()
class FuseConv2d(DynamicConv2d):
    """A ``DynamicConv2d`` whose kept output channels are DCFF fused filters.

    ``update_fusion(temperature)`` fixes how all filters mix into each kept one
    (``fuse_matrix``, one row per kept channel, until the next update; the kept
    channels are those of the output mask, which ``DCFFChannelUnit`` chooses by
    :meth:`fusion_scores`). Before the first update, and for grouped convs (whose
    filters read different inputs), it is a plain ``DynamicConv2d``. The
    temperature is a buffer, so a checkpoint keeps it and the matrix is recomputed
    from the loaded weights when needed.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_buffer('temperature', torch.zeros(()))  # 0: no fusion yet
        self.fuse_matrix: Optional[torch.Tensor] = None
        self._fused_rows: Optional[torch.Tensor] = None

    @classmethod
    def convert_from(cls, module: nn.Conv2d) -> 'FuseConv2d':
        new = super().convert_from(module)
        new.temperature = torch.zeros((), device=module.weight.device)  # not on 'meta'
        return new

    @property
    def fuses(self) -> bool:
        """Whether the kept filters are fused ones."""
        return self.groups == 1 and float(self.temperature) > 0

    def fusion_scores(self, temperature: float) -> torch.Tensor:
        """DCFF's importance of each filter at ``temperature`` (larger: keep)."""
        return kl_scores(filter_log_distributions(self._in_sliced_weight(), temperature))

    def update_fusion(self, temperature: float) -> None:
        """Recompute the fusion of the kept filters at ``temperature``."""
        if temperature <= 0:
            raise ValueError(f'the fusion temperature must be > 0, got {temperature}')
        self.temperature.fill_(temperature)
        self.fuse_matrix = None
        if self.groups == 1:
            self._current_fuse_matrix()

    def _kept_rows(self) -> torch.Tensor:
        mask = self.out_mask()
        if mask is None:
            return torch.arange(self.out_channels, device=self.weight.device)
        return mask.nonzero().flatten()

    def _in_sliced_weight(self) -> torch.Tensor:
        in_mask = self.in_mask()
        return self.weight if in_mask is None else self.weight[:, in_mask]

    def _current_fuse_matrix(self) -> torch.Tensor:
        rows = self._kept_rows()
        stale = self.fuse_matrix is None or self._fused_rows is None or \
            not torch.equal(self._fused_rows.to(rows.device), rows)
        if stale:  # loaded from a checkpoint, or the kept channels changed
            log_p = filter_log_distributions(self._in_sliced_weight(),
                                             float(self.temperature))
            self.fuse_matrix = log_p.exp()[rows].to(self.weight.dtype)
            self._fused_rows = rows
        return self.fuse_matrix.to(self.weight.device)

    def active_conv_params(self) -> Tuple[torch.Tensor, Optional[torch.Tensor], int]:
        if not self.fuses:
            return super().active_conv_params()
        matrix = self._current_fuse_matrix()
        weight = self._in_sliced_weight()
        fused = (matrix @ weight.flatten(1)).view(len(matrix), *weight.shape[1:])
        bias = None if self.bias is None else matrix @ self.bias
        return fused, bias, 1

"""``L1MutableChannelUnit``: keeps the channels whose output weights have the largest
L1 norm."""
from typing import Dict, Optional

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from ..simple_mutable_channel import SimpleMutableChannel
from .sequential_mutable_channel_unit import SequentialMutableChannelUnit


@MODELS.register_module()
class L1MutableChannelUnit(SequentialMutableChannelUnit):
    """A unit that keeps its ``k`` most important channels by L1 norm.

    The importance of a channel is the L1 norm of the weights producing it, summed
    over the unit's output-related convs and linears, measured when the choice is set.
    A unit with no such layer keeps its first channels.

    Args: as :class:`SequentialMutableChannelUnit`.
    """

    def __init__(self, num_channels: int, choice_mode: str = 'number', divisor: int = 1,
                 min_value: int = 1, min_ratio: float = 0.9,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value, min_ratio, init_cfg)
        self.mutable_channel = SimpleMutableChannel(num_channels)

    def l1_norm(self) -> Optional[torch.Tensor]:
        """Importance of each unit channel, or None without a conv/linear output."""
        total = None
        for channel in self.output_related:
            module = channel.module
            if not isinstance(module, (nn.Conv2d, nn.Linear)):
                continue
            weight = module.weight.detach()[channel.start:channel.end]
            norm = weight.abs().flatten(1).sum(1).float().cpu()
            norm = norm.view(self.num_channels, channel.expand_ratio).sum(1)
            total = norm if total is None else total + norm
        return total

    def _apply_number(self, num: int) -> None:
        importance = self.l1_norm()
        if importance is None:
            mask = self._first_mask(num)
        else:
            mask = torch.zeros(self.num_channels, dtype=torch.bool)
            mask[importance.topk(num, sorted=False).indices] = True
        self.mutable_channel.current_choice = mask

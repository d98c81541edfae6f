"""``DCFFChannelUnit``: a unit whose convs fuse filters and keep the most distinct
ones (DCFF)."""
from typing import Any, Dict, List, Optional, Union

import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import FuseConv2d
from mmrazor.registry import MODELS

from ..simple_mutable_channel import SimpleMutableChannel
from .mutable_channel_unit import DYNAMIC_OPS
from .sequential_mutable_channel_unit import SequentialMutableChannelUnit


@MODELS.register_module()
class DCFFChannelUnit(SequentialMutableChannelUnit):
    """A unit for DCFF: its ``Conv2d`` layers become ``FuseConv2d``, whose kept
    output channels are fusions of all filters (see :class:`FuseConv2d`).

    The unit keeps the channels whose filters are most distinct (DCFF's summed KL
    divergence, each conv's scores normalized to mean 1 and added over the unit's
    output convs) at the unit's ``temperature``, so the following norms and layers
    keep the parameters of the same channels. :meth:`update_fusion` lowers the
    temperature, selects again and refreshes every conv's fusion.

    Args:
        num_channels (int): The width of the unit.
        candidate_choices (list): Widths the unit may start from; it starts at the
            largest. Defaults to [1.0].
        choice_mode (str): 'ratio' or 'number'. Defaults to 'ratio'.
        divisor (int): Widths are multiples of it. Defaults to 1.
        min_value (int): The smallest width. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`. Defaults to 0.9.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    # filters are fused, not just selected
    dynamic_ops = {**DYNAMIC_OPS, nn.Conv2d: FuseConv2d}

    def __init__(self, num_channels: int,
                 candidate_choices: List[Union[int, float]] = [1.0],  # noqa: B006
                 choice_mode: str = 'ratio', divisor: int = 1, min_value: int = 1,
                 min_ratio: float = 0.9, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value, min_ratio, init_cfg)
        if not candidate_choices:
            raise ValueError("DCFFChannelUnit needs candidate_choices, e.g. [1.0] with "
                             "choice_mode='ratio'")
        for choice in candidate_choices:
            self._check_choice(choice)
        self.candidate_choices = sorted(candidate_choices)
        self.temperature = 1.0
        self.mutable_channel = SimpleMutableChannel(num_channels)
        self.current_choice = self.candidate_choices[-1]

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(super().init_args, candidate_choices=list(self.candidate_choices))

    def fuse_convs(self) -> List[FuseConv2d]:
        """The unit's convs whose output channels it prunes (they fuse filters)."""
        return [channel.module for channel in self.output_related
                if isinstance(channel.module, FuseConv2d) and channel.module.groups == 1]

    def importance(self) -> Optional[torch.Tensor]:
        """DCFF's score of each unit channel, or None without a fusing conv."""
        total = None
        for channel in self.output_related:
            conv = channel.module
            if not isinstance(conv, FuseConv2d) or conv.groups != 1:
                continue
            scores = conv.fusion_scores(self.temperature).cpu()[channel.start:channel.end]
            scores = scores / scores.abs().mean().clamp_min(1e-12)
            scores = scores.view(self.num_channels, channel.expand_ratio).sum(1)
            total = scores if total is None else total + scores
        return total

    def _apply_number(self, num: int) -> None:
        scores = self.importance()
        if scores is None:
            mask = self._first_mask(num)
        else:
            mask = torch.zeros(self.num_channels, dtype=torch.bool)
            mask[scores.topk(num).indices] = True
        self.mutable_channel.current_choice = mask

    def update_fusion(self, temperature: float) -> None:
        """Select the kept channels again at ``temperature`` and refresh the fusions."""
        if temperature <= 0:
            raise ValueError(f'the fusion temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self._apply_number(int(self.current_mask.sum()))
        for conv in self.fuse_convs():
            conv.update_fusion(temperature)

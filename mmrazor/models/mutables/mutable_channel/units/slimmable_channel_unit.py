"""``SlimmableChannelUnit``: one-shot widths with a separate BN per width."""
from typing import Dict, List, Optional, Union

import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import SwitchableBatchNorm2d
from mmrazor.registry import MODELS

from .mutable_channel_unit import DYNAMIC_OPS
from .one_shot_mutable_channel_unit import OneShotMutableChannelUnit


@MODELS.register_module()
class SlimmableChannelUnit(OneShotMutableChannelUnit):
    """A one-shot unit for slimmable networks: its ``BatchNorm2d`` layers become
    ``SwitchableBatchNorm2d``, with one set of statistics per candidate width.

    Args: as :class:`OneShotMutableChannelUnit`, with ``candidate_choices=[]`` and
        ``choice_mode='number'`` by default (the candidates must be given).
    """

    dynamic_ops = {**DYNAMIC_OPS, nn.BatchNorm2d: SwitchableBatchNorm2d}

    def __init__(self, num_channels: int,
                 candidate_choices: List[Union[int, float]] = [],  # noqa: B006
                 choice_mode: str = 'number', divisor: int = 1, min_value: int = 1,
                 min_ratio: float = 0.9, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, candidate_choices, choice_mode, divisor, min_value,
                         min_ratio, init_cfg)

    def prepare_for_pruning(self, model: nn.Module) -> None:
        """As the base, then one BN per candidate width in each switchable BN."""
        super().prepare_for_pruning(model)
        for channel in self.channels:
            if isinstance(channel.module, SwitchableBatchNorm2d) \
                    and not len(channel.module.candidate_bn):
                channel.module.init_candidates(self.candidate_numbers)

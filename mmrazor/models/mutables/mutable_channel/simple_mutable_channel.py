"""``SimpleMutableChannel``: any subset of channels, chosen by a boolean mask."""
from typing import Dict, Optional

import torch

from mmrazor.registry import MODELS

from .base_mutable_channel import BaseMutableChannel


@MODELS.register_module()
class SimpleMutableChannel(BaseMutableChannel):
    """A mutable channel whose choice is the boolean mask itself.

    Args:
        num_channels (int): How many channels there are; all are kept at first.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, alias=alias, init_cfg=init_cfg)
        # a non-persistent buffer: moves with the module, stays out of checkpoints
        self.register_buffer('mask', torch.ones(num_channels, dtype=torch.bool),
                             persistent=False)

    @property
    def current_mask(self) -> torch.Tensor:
        return self.mask.clone()

    @property
    def current_choice(self) -> torch.Tensor:
        return self.mask.clone()

    @current_choice.setter
    def current_choice(self, choice: torch.Tensor) -> None:
        self._check_not_fixed()
        self._set_mask(choice)

    def _set_mask(self, mask: torch.Tensor) -> None:
        if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool \
                or mask.shape != (self.num_channels, ):
            got = (f'{mask.dtype} tensor of shape {tuple(mask.shape)}'
                   if isinstance(mask, torch.Tensor) else type(mask).__name__)
            raise ValueError(f'the choice of {type(self).__name__} is a bool tensor of '
                             f'shape ({self.num_channels},); got {got}')
        if not bool(mask.any()):
            raise ValueError(f'a mask must keep at least one of the {self.num_channels} '
                             'channels; got all False')
        self.mask = mask.to(self.mask.device).clone()

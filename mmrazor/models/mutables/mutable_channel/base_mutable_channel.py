"""``BaseMutableChannel``: which of a layer's channels are kept."""
from abc import abstractmethod
from typing import Dict, Optional

import torch

from ..base_mutable import BaseMutable
from ..derived_mutable import DerivedMethodMixin


class BaseMutableChannel(BaseMutable, DerivedMethodMixin):
    """A set of ``num_channels`` channels of which a boolean mask keeps some.

    Args:
        num_channels (int): How many channels there are.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    mutable_prefix = 'channel'

    def __init__(self, num_channels: int, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        if isinstance(num_channels, bool) or not isinstance(num_channels, int) \
                or num_channels < 1:
            raise ValueError(f'num_channels must be a positive int, got {num_channels!r}')
        self.num_channels = num_channels

    @property
    @abstractmethod
    def current_mask(self) -> torch.Tensor:
        """A bool tensor of ``num_channels``: True for each kept channel."""

    @property
    def activated_channels(self) -> int:
        """How many channels are kept."""
        return int(self.current_mask.sum())

    def _dump_meta(self) -> Dict:
        return dict(num_channels=self.num_channels)

    def extra_repr(self) -> str:
        return f'num_channels={self.num_channels}, activated_channels={self.activated_channels}'

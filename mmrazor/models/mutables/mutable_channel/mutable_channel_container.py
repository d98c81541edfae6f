"""``MutableChannelContainer``: the channels of one side of one layer, pieced together
from the mutable channels of the units that own parts of them."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from ..base_mutable import BaseMutable
from .base_mutable_channel import BaseMutableChannel


@MODELS.register_module()
class MutableChannelContainer(BaseMutableChannel):
    """The mask of a layer's input or output channels.

    A layer may belong to several units (a concatenation feeds one conv, for example):
    each unit registers its mutable channel over an index range ``[start, end)``; the
    container's mask joins their masks, and channels no unit owns stay kept.

    Args:
        num_channels (int): The channels of that side of the layer.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, alias=alias, init_cfg=init_cfg)
        # a plain dict: the registered mutables belong to their units, not to the layer
        self.mutable_channels: Dict[Tuple[int, int], BaseMutable] = {}

    def register_mutable(self, mutable_channel: BaseMutable, start: int, end: int) -> None:
        """Let ``mutable_channel`` decide channels ``[start, end)``.

        Raises:
            ValueError: for a range outside ``[0, num_channels]``, a mutable whose mask
                is not ``end - start`` long, or a range that overlaps another mutable's.
        """
        if not 0 <= start < end <= self.num_channels:
            raise ValueError(f'channel range [{start}, {end}) is not inside the '
                             f'{self.num_channels} channels of this layer')
        width = mutable_channel.current_mask.numel()
        if width != end - start:
            raise ValueError(f'a mutable of {width} channels cannot fill the '
                             f'{end - start} channels [{start}, {end})')
        for (other_start, other_end), other in self.mutable_channels.items():
            if (other_start, other_end) == (start, end) and other is mutable_channel:
                return
            if start < other_end and other_start < end:
                raise ValueError(f'channels [{start}, {end}) overlap [{other_start}, '
                                 f'{other_end}), already owned by another mutable')
        self.mutable_channels[(start, end)] = mutable_channel

    @property
    def current_mask(self) -> torch.Tensor:
        masks = {index: m.current_mask for index, m in self.mutable_channels.items()}
        device = next(iter(masks.values())).device if masks else torch.device('cpu')
        mask = torch.ones(self.num_channels, dtype=torch.bool, device=device)
        for (start, end), sub_mask in masks.items():
            mask[start:end] = sub_mask.to(device)
        return mask

    @property
    def current_choice(self) -> torch.Tensor:
        return self.current_mask

    @current_choice.setter
    def current_choice(self, choice: torch.Tensor) -> None:
        raise AttributeError('a MutableChannelContainer follows the mutables registered '
                             'in it; set their choices instead')

    @property
    def is_fixed(self) -> bool:
        """Fixed when every registered mutable is."""
        return all(m.is_fixed for m in self.mutable_channels.values())

    @is_fixed.setter
    def is_fixed(self, is_fixed: bool) -> None:
        raise AttributeError('a MutableChannelContainer is fixed when the mutables '
                             'registered in it are; fix them')

    def fix_chosen(self, chosen: Optional[torch.Tensor] = None) -> None:
        """Fix every registered mutable that is not fixed, at its current choice."""
        if chosen is not None:
            raise AttributeError('a MutableChannelContainer cannot take a choice')
        for mutable in self.mutable_channels.values():
            if not mutable.is_fixed:
                mutable.fix_chosen()

    @staticmethod
    def register_mutable_channel_to_module(module: nn.Module, mutable: BaseMutable,
                                           is_to_output_channel: bool = True,
                                           start: int = 0, end: int = -1) -> None:
        """Register ``mutable`` over ``[start, end)`` of a dynamic op's in/out channels.

        Args:
            module (nn.Module): A dynamic op whose channel containers are registered.
            mutable (BaseMutable): A channel mutable (or a derived one).
            is_to_output_channel (bool): Output (True) or input channels. Defaults to
                True.
            start (int): First channel. Defaults to 0.
            end (int): One past the last channel; -1 for all. Defaults to -1.
        """
        from mmrazor.models.architectures.dynamic_ops import DynamicChannelMixin
        if not isinstance(module, DynamicChannelMixin):
            raise TypeError(f'{type(module).__name__} is not a dynamic channel op; '
                            'convert it first (DynamicConv2d.convert_from, ...)')
        side = 'out_channels' if is_to_output_channel else 'in_channels'
        container = module.get_mutable_attr(side)
        if not isinstance(container, MutableChannelContainer):
            raise ValueError(f'{type(module).__name__} has no MutableChannelContainer '
                             f'for its {side}; register one first')
        end = container.num_channels if end == -1 else end
        container.register_mutable(mutable, start, end)

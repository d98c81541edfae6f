"""``SequentialMutableChannelUnit``: keeps the first channels, widths rounded to a
divisor."""
import random
from typing import Any, Dict, Optional, Union

import torch

from mmrazor.registry import MODELS

from ...derived_mutable import make_divisible
from ..sequential_mutable_channel import SquentialMutableChannel, check_choice_mode
from .mutable_channel_unit import MutableChannelUnit


@MODELS.register_module()
class SequentialMutableChannelUnit(MutableChannelUnit):
    """A unit whose width ``k`` keeps its first ``k`` channels.

    Widths are rounded to a multiple of ``divisor`` (never below ``min_value``, nor
    below ``min_ratio`` of the asked width), then to a multiple of ``channel_multiple``
    (the channels per group of a related ``GroupNorm``), and never above
    ``num_channels``.

    Args:
        num_channels (int): The width of the unit.
        choice_mode (str): 'number' (choices are channel counts, ints) or 'ratio'
            (floats in (0, 1]). Defaults to 'number'.
        divisor (int): Widths are multiples of it. Defaults to 1.
        min_value (int): The smallest width. Defaults to 1.
        min_ratio (float): Rounding down keeps at least this share of the asked width.
            Defaults to 0.9.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int, choice_mode: str = 'number', divisor: int = 1,
                 min_value: int = 1, min_ratio: float = 0.9,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, init_cfg=init_cfg)
        check_choice_mode(choice_mode)
        for name, value in (('divisor', divisor), ('min_value', min_value)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be a positive int, got {value!r}')
        if not 0 < min_ratio <= 1:
            raise ValueError(f'min_ratio must be in (0, 1], got {min_ratio}')
        self.choice_mode = choice_mode
        self.divisor = divisor
        self.min_value = min_value
        self.min_ratio = min_ratio
        self.mutable_channel = SquentialMutableChannel(num_channels, choice_mode)

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(num_channels=self.num_channels, choice_mode=self.choice_mode,
                    divisor=self.divisor, min_value=self.min_value, min_ratio=self.min_ratio)

    @property
    def is_num_mode(self) -> bool:
        """Whether choices are channel counts."""
        return self.choice_mode == 'number'

    def _from_number(self, num: int) -> Union[int, float]:
        return num if self.is_num_mode else num / self.num_channels

    def _round(self, value: float) -> int:
        num = make_divisible(value, self.divisor, self.min_value, self.min_ratio)
        step = self.channel_multiple
        if step > 1:  # e.g. a GroupNorm's channels per group
            num = max(step, round(num / step) * step)
            if num > self.num_channels:
                num = self.num_channels // step * step or self.num_channels
        return max(1, min(num, self.num_channels))

    def _check_choice(self, choice: Union[int, float]) -> None:
        if isinstance(choice, bool) or not isinstance(choice, (int, float)):
            raise TypeError(f'unit {self.name!r}: a choice is a number, got '
                            f'{type(choice).__name__} {choice!r}')
        if self.is_num_mode:
            if not isinstance(choice, int):
                raise TypeError(f"unit {self.name!r} has choice_mode='number': a choice is "
                                f'an int number of channels, got {choice!r}')
            if not 1 <= choice <= self.num_channels:
                raise ValueError(f'unit {self.name!r}: choice {choice} is not in [1, '
                                 f'{self.num_channels}] (the unit has {self.num_channels} '
                                 'channels)')
        elif not 0 < choice <= 1:
            raise ValueError(f"unit {self.name!r} has choice_mode='ratio': a choice is in "
                             f'(0, 1], got {choice}')

    def to_number(self, choice: Union[int, float]) -> int:
        """The number of channels a choice keeps, after rounding."""
        self._check_choice(choice)
        return self._round(choice if self.is_num_mode else choice * self.num_channels)

    @property
    def current_choice(self) -> Union[int, float]:
        return self._from_number(self.mutable_channel.activated_channels)

    @current_choice.setter
    def current_choice(self, choice: Union[int, float]) -> None:
        self._apply_number(self.to_number(choice))

    def _apply_number(self, num: int) -> None:
        """Keep ``num`` channels: the first ones."""
        if isinstance(self.mutable_channel, SquentialMutableChannel):
            self.mutable_channel.current_choice = num
        else:
            self.mutable_channel.current_choice = self._first_mask(num)

    def _first_mask(self, num: int) -> torch.Tensor:
        mask = torch.zeros(self.num_channels, dtype=torch.bool)
        mask[:num] = True
        return mask

    def sample_choice(self) -> Union[int, float]:
        return self._from_number(self._round(random.randint(1, self.num_channels)))

    @property
    def min_choice(self) -> Union[int, float]:
        return self._from_number(self._round(1))

    @property
    def max_choice(self) -> Union[int, float]:
        return self._from_number(self.num_channels)

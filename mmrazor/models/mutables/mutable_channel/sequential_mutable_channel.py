"""``SquentialMutableChannel``: keeps the first ``k`` channels (MMRazor's spelling)."""
from typing import Dict, List, Optional, Union

import torch

from mmrazor.registry import MODELS

from .simple_mutable_channel import SimpleMutableChannel

CHOICE_MODES = ('number', 'ratio')


def check_choice_mode(choice_mode: str) -> None:
    """Raise for a choice mode other than 'number' and 'ratio'."""
    if choice_mode not in CHOICE_MODES:
        raise ValueError(f"choice_mode must be one of {CHOICE_MODES}, got {choice_mode!r}")


@MODELS.register_module()
class SquentialMutableChannel(SimpleMutableChannel):
    """A mutable channel that keeps its first ``k`` channels.

    The choice is ``k`` (``choice_mode='number'``) or ``k / num_channels``
    (``'ratio'``); either form is accepted when setting it: an int is a number of
    channels and a float a ratio.

    Args:
        num_channels (int): How many channels there are.
        choice_mode (str): 'number' or 'ratio', the form ``current_choice`` returns.
            Defaults to 'number'.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int, choice_mode: str = 'number',
                 alias: Optional[str] = None, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, alias=alias, init_cfg=init_cfg)
        check_choice_mode(choice_mode)
        self.choice_mode = choice_mode

    @property
    def is_num_mode(self) -> bool:
        """Whether choices are numbers of channels."""
        return self.choice_mode == 'number'

    @property
    def current_choice(self) -> Union[int, float]:
        num = int(self.mask.sum())
        return num if self.is_num_mode else num / self.num_channels

    @current_choice.setter
    def current_choice(self, choice: Union[int, float]) -> None:
        self._check_not_fixed()
        num = self.to_number(choice)
        mask = torch.zeros(self.num_channels, dtype=torch.bool)
        mask[:num] = True
        self._set_mask(mask)

    @property
    def choices(self) -> List[Union[int, float]]:
        numbers = range(1, self.num_channels + 1)
        return list(numbers) if self.is_num_mode else [n / self.num_channels for n in numbers]

    def to_number(self, choice: Union[int, float]) -> int:
        """The number of channels an int (number) or float (ratio) choice means."""
        if isinstance(choice, bool) or not isinstance(choice, (int, float)):
            raise TypeError(f'a channel choice is an int (number of channels) or a float '
                            f'(ratio); got {type(choice).__name__} {choice!r}')
        if isinstance(choice, float):
            if not 0 < choice <= 1:
                raise ValueError(f'a ratio choice must be in (0, 1], got {choice}')
            return max(1, round(choice * self.num_channels))
        if not 1 <= choice <= self.num_channels:
            raise ValueError(f'a number choice must be in [1, {self.num_channels}] '
                             f'(the channels there are), got {choice}')
        return choice

    def extra_repr(self) -> str:
        return super().extra_repr() + f', choice_mode={self.choice_mode!r}'


SequentialMutableChannel = SquentialMutableChannel

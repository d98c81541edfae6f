"""``OneShotMutableChannelUnit``: widths drawn from a list of candidates (AutoSlim)."""
import random
from typing import Any, Dict, List, Optional, Union

from mmrazor.registry import MODELS

from ..base_mutable_channel import BaseMutableChannel
from ..one_shot_mutable_channel import OneShotMutableChannel
from .sequential_mutable_channel_unit import SequentialMutableChannelUnit


@MODELS.register_module()
class OneShotMutableChannelUnit(SequentialMutableChannelUnit):
    """A sequential unit whose choice is one of ``candidate_choices``.

    Args:
        num_channels (int): The width of the unit.
        candidate_choices (list): The allowed choices (ratios in 'ratio' mode, channel
            counts in 'number' mode). Defaults to [0.5, 1.0].
        choice_mode (str): 'ratio' or 'number'. Defaults to 'ratio'.
        divisor (int): Widths are multiples of it. Defaults to 1.
        min_value (int): The smallest width. Defaults to 1.
        min_ratio (float): See :class:`SequentialMutableChannelUnit`. Defaults to 0.9.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int,
                 candidate_choices: List[Union[int, float]] = [0.5, 1.0],  # noqa: B006
                 choice_mode: str = 'ratio', divisor: int = 1, min_value: int = 1,
                 min_ratio: float = 0.9, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value, min_ratio, init_cfg)
        if not candidate_choices:
            raise ValueError(f'{type(self).__name__} needs candidate_choices, e.g. '
                             "[0.5, 1.0] with choice_mode='ratio'")
        for choice in candidate_choices:
            self._check_choice(choice)
        self.candidate_choices = sorted(candidate_choices)
        self.mutable_channel = OneShotMutableChannel(
            num_channels, candidate_choices=self.candidate_numbers, choice_mode='number')
        self._apply_number(self.candidate_numbers[-1])

    @property
    def candidate_numbers(self) -> List[int]:
        """The channel counts the candidates keep."""
        return sorted({self.to_number(c) for c in self.candidate_choices})

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(super().init_args, candidate_choices=list(self.candidate_choices))

    @classmethod
    def _args_from_mutable(cls, mutable: BaseMutableChannel) -> Dict:
        if isinstance(mutable, OneShotMutableChannel) and mutable.candidate_choices:
            return dict(candidate_choices=mutable.candidate_choices,
                        choice_mode=mutable.choice_mode)
        return {}

    @property
    def current_choice(self) -> Union[int, float]:
        num = self.mutable_channel.activated_channels
        for choice in self.candidate_choices:
            if self.to_number(choice) == num:
                return choice
        return self._from_number(num)

    @current_choice.setter
    def current_choice(self, choice: Union[int, float]) -> None:
        self._check_choice(choice)
        if choice not in self.candidate_choices:
            raise ValueError(f'unit {self.name!r}: choice {choice!r} is not a candidate; '
                             f'candidate_choices: {self.candidate_choices}')
        self._apply_number(self.to_number(choice))

    def sample_choice(self) -> Union[int, float]:
        return random.choice(self.candidate_choices)

    @property
    def min_choice(self) -> Union[int, float]:
        return self.candidate_choices[0]

    @property
    def max_choice(self) -> Union[int, float]:
        return self.candidate_choices[-1]

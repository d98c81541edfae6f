"""``OneShotMutableChannel``: first-``k`` channels, ``k`` from a list of candidates."""
import random
from typing import Dict, List, Optional, Union

from .sequential_mutable_channel import SquentialMutableChannel


class OneShotMutableChannel(SquentialMutableChannel):
    """A sequential mutable channel restricted to ``candidate_choices``.

    Args:
        num_channels (int): How many channels there are.
        candidate_choices (list): The allowed choices, in ``choice_mode`` form (ints
            for 'number', ratios for 'ratio'). Defaults to [] (every width).
        choice_mode (str): 'number' or 'ratio'. Defaults to 'number'.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int,
                 candidate_choices: List[Union[int, float]] = [],  # noqa: B006
                 choice_mode: str = 'number', alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, choice_mode, alias=alias, init_cfg=init_cfg)
        for choice in candidate_choices:
            self.to_number(choice)  # raises for a candidate out of range
        self.candidate_choices = sorted(candidate_choices)
        self._numbers = sorted({self.to_number(c) for c in candidate_choices})

    @property
    def choices(self) -> List[Union[int, float]]:
        return list(self.candidate_choices) if self.candidate_choices else super().choices

    @property
    def current_choice(self) -> Union[int, float]:
        return SquentialMutableChannel.current_choice.fget(self)

    @current_choice.setter
    def current_choice(self, choice: Union[int, float]) -> None:
        if self._numbers and self.to_number(choice) not in self._numbers:
            raise ValueError(f'choice {choice!r} is not a candidate; candidate_choices: '
                             f'{self.candidate_choices}')
        SquentialMutableChannel.current_choice.fset(self, choice)

    @property
    def max_choice(self) -> Union[int, float]:
        """The largest candidate."""
        return self.choices[-1]

    @property
    def min_choice(self) -> Union[int, float]:
        """The smallest candidate."""
        return self.choices[0]

    def sample_choice(self) -> Union[int, float]:
        """A candidate drawn uniformly."""
        return random.choice(self.choices)

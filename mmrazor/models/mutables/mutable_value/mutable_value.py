"""``MutableValue``: a searchable value (kernel size, expand ratio, depth, input
shape) taken from a fixed list."""
import random
from typing import Any, Dict, List, Optional

from mmrazor.registry import MODELS

from ..base_mutable import BaseMutable
from ..derived_mutable import DerivedMethodMixin


@MODELS.register_module()
class MutableValue(BaseMutable, DerivedMethodMixin):
    """A value chosen from ``value_list``.

    ``value * 2``, ``value // 2`` and ``value // (ratio, divisor)`` are
    ``DerivedMutable``s that follow the value (see ``DerivedMethodMixin``).

    Args:
        value_list (list): The values, all of one type.
        default_value (Any, optional): The first choice, one of ``value_list``.
            Defaults to None (the first value).
        alias (str, optional): Mutables with one alias take one choice. Defaults to
            None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    mutable_prefix = 'value'

    def __init__(self, value_list: List[Any], default_value: Optional[Any] = None,
                 alias: Optional[str] = None, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        if not isinstance(value_list, (list, tuple)) or len(value_list) == 0:
            raise ValueError(f'value_list must be a non-empty list, got {value_list!r}')
        types = {type(value).__name__ for value in value_list}
        if len(types) > 1:
            raise TypeError(f'all values of value_list must have one type; '
                            f'{list(value_list)} mixes {sorted(types)}')
        self._value_list = list(value_list)
        self.current_choice = value_list[0] if default_value is None else default_value

    @property
    def choices(self) -> List[Any]:
        """The values to choose from."""
        return list(self._value_list)

    def check_choice(self, choice: Any) -> None:
        """Raise ``ValueError`` unless ``choice`` is one of ``choices``."""
        if choice not in self._value_list:
            raise ValueError(f'{self._describe()}: choice {choice!r} is not one of its '
                             f'choices {self._value_list}')

    @property
    def current_choice(self) -> Any:
        return self._current_choice

    @current_choice.setter
    def current_choice(self, choice: Any) -> None:
        self._check_not_fixed()
        self.check_choice(choice)
        self._current_choice = choice

    def __repr__(self) -> str:
        alias = f', alias={self.alias!r}' if self.alias else ''
        return (f'{type(self).__name__}(value_list={self._value_list}, '
                f'current_choice={self.current_choice!r}{alias})')


@MODELS.register_module()
class OneShotMutableValue(MutableValue):
    """A mutable value of a one-shot supernet: its values are sorted and it starts
    at the largest.

    Args:
        value_list (list): The values, all of one type (sorted here).
        default_value (Any, optional): The first choice. Defaults to None (the
            largest value).
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, value_list: List[Any], default_value: Optional[Any] = None,
                 alias: Optional[str] = None, init_cfg: Optional[Dict] = None) -> None:
        if not isinstance(value_list, (list, tuple)) or len(value_list) == 0:
            raise ValueError(f'value_list must be a non-empty list, got {value_list!r}')
        value_list = sorted(value_list)
        super().__init__(value_list, value_list[-1] if default_value is None else default_value,
                         alias=alias, init_cfg=init_cfg)

    def sample_choice(self) -> Any:
        """A value drawn uniformly."""
        return random.choice(self._value_list)

    @property
    def max_choice(self) -> Any:
        """The largest value."""
        return self._value_list[-1]

    @property
    def min_choice(self) -> Any:
        """The smallest value."""
        return self._value_list[0]

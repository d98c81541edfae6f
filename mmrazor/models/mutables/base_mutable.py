"""``BaseMutable``: a searchable or prunable choice inside a model."""
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Dict, List, NamedTuple, Optional

from mmengine.model import BaseModule


class DumpChosen(NamedTuple):
    """What a mutable exports: the chosen value and optional metadata about it."""
    chosen: Any
    meta: Optional[Dict] = None


class BaseMutable(BaseModule, ABC):
    """A choice of a model (an op, a value, a width) that can be changed, then fixed.

    Subclasses store their choice and implement ``current_choice``. Fixing is
    irreversible: a fixed mutable refuses a new choice, so an exported subnet cannot
    drift. Mutators group mutables into search groups named ``<mutable_prefix>_<i>``.

    Args:
        alias (str, optional): A name shared by mutables that must take one choice;
            mutators group mutables by it. Defaults to None.
        init_cfg (dict, optional): Initialization config of ``BaseModule``. Defaults
            to None.
    """

    mutable_prefix: ClassVar[str] = ''

    def __init__(self, alias: Optional[str] = None, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.alias = alias
        self._is_fixed = False

    @property
    @abstractmethod
    def current_choice(self) -> Any:
        """The choice the mutable takes now."""

    @current_choice.setter
    @abstractmethod
    def current_choice(self, choice: Any) -> None:
        """Change the choice (refused once fixed)."""

    @property
    def choices(self) -> List[Any]:
        """All choices, for mutables with a finite set of them."""
        raise NotImplementedError(f'{type(self).__name__} has no finite list of choices')

    @property
    def num_choices(self) -> int:
        """How many choices ``choices`` lists."""
        return len(self.choices)

    @property
    def is_fixed(self) -> bool:
        """Whether the choice is fixed for good."""
        return self._is_fixed

    @is_fixed.setter
    def is_fixed(self, is_fixed: bool) -> None:
        if not isinstance(is_fixed, bool):
            raise TypeError(f'is_fixed must be a bool, got {type(is_fixed).__name__}')
        if self._is_fixed and not is_fixed:
            raise AttributeError(f'{self._describe()} is fixed; fixing cannot be undone')
        self._is_fixed = is_fixed

    def fix_chosen(self, chosen: Any = None) -> None:
        """Set the choice to ``chosen`` (the current one if None) and fix it for good.

        Raises:
            AttributeError: if the mutable is already fixed.
        """
        if self.is_fixed:
            raise AttributeError(f'{self._describe()} is already fixed; fix_chosen '
                                 'can be called once')
        if chosen is not None:
            self.current_choice = chosen
        self.is_fixed = True

    def dump_chosen(self) -> DumpChosen:
        """The current choice with its metadata, as a subnet file stores it."""
        return DumpChosen(chosen=self.current_choice, meta=self._dump_meta())

    def export_chosen(self) -> Any:
        """The current choice, without metadata."""
        return self.dump_chosen().chosen

    def _dump_meta(self) -> Optional[Dict]:
        """Metadata written next to the choice; None by default."""
        return None

    def _check_not_fixed(self) -> None:
        """Raise if the choice may not change any more."""
        if self.is_fixed:
            raise AttributeError(f'{self._describe()} is fixed; its choice '
                                 f'{self.current_choice!r} cannot change')

    def _describe(self) -> str:
        return f'{type(self).__name__}' + (f' {self.alias!r}' if self.alias else '')

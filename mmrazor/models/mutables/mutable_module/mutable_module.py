"""``MutableModule``: a searchable op, whose choice names one of its candidate modules."""
import copy
from abc import abstractmethod
from typing import Any, Dict, List, Mapping, Optional, Union

import torch.nn as nn

from mmrazor.registry import MODELS

from ..base_mutable import BaseMutable

Candidates = Union[Mapping[str, Union[Dict, nn.Module]], nn.ModuleDict]


def build_candidates(candidates: Candidates,
                     module_kwargs: Optional[Dict] = None) -> nn.ModuleDict:
    """The candidate ops as an ``nn.ModuleDict``, configs built from ``MODELS``.

    Args:
        candidates (dict | nn.ModuleDict): ``{name: op config or built module}``.
        module_kwargs (dict, optional): Added to every config (e.g. the channels
            shared by all candidates of a block). Defaults to None.
    """
    if not isinstance(candidates, Mapping) and not isinstance(candidates, nn.ModuleDict):
        raise TypeError('candidates must be a dict of op configs or modules, or an '
                        f'nn.ModuleDict; got {type(candidates).__name__}')
    if len(candidates) == 0:
        raise ValueError('a mutable op needs at least one candidate; got none')
    ops = nn.ModuleDict()
    for name, candidate in candidates.items():
        if isinstance(candidate, nn.Module):
            ops[name] = candidate
        elif isinstance(candidate, Mapping):
            # a copy: a config dict shared by several blocks must not collect kwargs
            cfg = dict(copy.deepcopy(dict(candidate)), **(module_kwargs or {}))
            ops[name] = MODELS.build(cfg)
        else:
            raise TypeError(f'candidate {name!r} must be an op config (dict) or a module, '
                            f'got {type(candidate).__name__}')
    return ops


class MutableModule(BaseMutable):
    """Base class of searchable ops: the choice is the name of a candidate module.

    Subclasses keep their candidates in ``self._candidates`` (an ``nn.ModuleDict``)
    and implement ``forward``, ``forward_fixed`` and ``forward_all``. The choice is
    None until a mutator (or the user) sets one; ``forward_all`` then runs every
    candidate (what FLOPs counters measure).

    Args:
        module_kwargs (dict, optional): Arguments added to every candidate config.
            Defaults to None.
        alias (str, optional): Mutables with one alias take one choice. Defaults to
            None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    mutable_prefix = 'module'
    _candidates: nn.ModuleDict

    def __init__(self, module_kwargs: Optional[Dict] = None, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        self.module_kwargs = module_kwargs
        self._current_choice: Any = None

    @property
    def choices(self) -> List[str]:
        """The names of the candidates (only the chosen ones once fixed)."""
        return list(self._candidates.keys())

    @property
    def current_choice(self) -> Any:
        """The chosen candidate name, or None before anything was chosen."""
        return self._current_choice

    @current_choice.setter
    def current_choice(self, choice: Any) -> None:
        self._check_not_fixed()
        self.check_choice(choice)
        self._current_choice = choice

    def check_choice(self, choice: Any) -> None:
        """Raise ``ValueError`` unless ``choice`` names a candidate."""
        if not isinstance(choice, str) or choice not in self._candidates:
            raise ValueError(f'{self._describe()}: choice {choice!r} is not one of its '
                             f'choices {self.choices}')

    def _candidate_size(self, name: str) -> int:
        return sum(p.numel() for p in self._candidates[name].parameters())

    @property
    def max_choice(self) -> str:
        """The candidate with the most parameters (the first of equals): an op has no
        order of its own, and the largest one is what "the largest subnet" means."""
        return max(self.choices, key=self._candidate_size)

    @property
    def min_choice(self) -> str:
        """The candidate with the fewest parameters (the first of equals)."""
        return min(self.choices, key=self._candidate_size)

    def dump_chosen(self):
        if self.current_choice is None:
            raise RuntimeError(f'{self._describe()} has no choice to export yet; set one '
                               f'(e.g. mutator.set_choices) from {self.choices}')
        return super().dump_chosen()

    @abstractmethod
    def forward(self, x: Any) -> Any:
        """Run the chosen op (or all of them)."""

    @abstractmethod
    def forward_fixed(self, x: Any) -> Any:
        """Forward once the choice is fixed."""

    @abstractmethod
    def forward_all(self, x: Any) -> Any:
        """Forward every candidate (sum of their outputs)."""

    def _drop_unchosen(self, chosen: List[str]) -> None:
        """Delete the candidates not in ``chosen``, so their weights leave the model."""
        for name in self.choices:
            if name not in chosen:
                del self._candidates[name]

    def extra_repr(self) -> str:
        return f'current_choice={self.current_choice!r}' + (
            f', alias={self.alias!r}' if self.alias else '')

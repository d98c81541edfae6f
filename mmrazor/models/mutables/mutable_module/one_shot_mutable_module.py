"""One-shot (single path) mutable ops: each forward runs the one chosen candidate."""
import random
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence

from mmrazor.registry import MODELS

from .mutable_module import Candidates, MutableModule, build_candidates


class OneShotMutableModule(MutableModule):
    """A mutable op of a single-path supernet (SPOS).

    ``forward`` runs ``forward_fixed`` once fixed, ``forward_all`` while no choice
    is set, else ``forward_choice`` with the current choice.
    """

    def forward(self, x: Any) -> Any:
        if self.is_fixed:
            return self.forward_fixed(x)
        if self.current_choice is None:
            return self.forward_all(x)
        return self.forward_choice(x, self.current_choice)

    @abstractmethod
    def sample_choice(self) -> str:
        """A random choice."""

    @abstractmethod
    def forward_choice(self, x: Any, choice: str) -> Any:
        """Forward with the candidate ``choice``."""


@MODELS.register_module()
class OneShotMutableOP(OneShotMutableModule):
    """A choice block of a single-path supernet: the choice is a candidate name.

    Fixing keeps only the chosen candidate (``_candidates.<name>`` in the state
    dict, as MMRazor's subnet checkpoints have it).

    Args:
        candidates (dict | nn.ModuleDict): ``{name: op config or module}``.
        module_kwargs (dict, optional): Arguments added to every candidate config.
            Defaults to None.
        alias (str, optional): Mutables with one alias take one choice. Defaults to
            None.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Examples:
        >>> op = OneShotMutableOP(dict(
        ...     conv3x3=dict(type='mmcv.Conv2d', kernel_size=3, padding=1),
        ...     conv5x5=dict(type='mmcv.Conv2d', kernel_size=5, padding=2)),
        ...     module_kwargs=dict(in_channels=8, out_channels=8))
        >>> op.current_choice = 'conv5x5'
        >>> op.fix_chosen()  # conv3x3 and its weights are gone
    """

    def __init__(self, candidates: Candidates, module_kwargs: Optional[Dict] = None,
                 alias: Optional[str] = None, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(module_kwargs=module_kwargs, alias=alias, init_cfg=init_cfg)
        self._candidates = build_candidates(candidates, module_kwargs)

    def forward_fixed(self, x: Any) -> Any:
        return self._candidates[self.current_choice](x)

    def forward_choice(self, x: Any, choice: str) -> Any:
        return self._candidates[choice](x)

    def forward_all(self, x: Any) -> Any:
        return sum(op(x) for op in self._candidates.values())

    def fix_chosen(self, chosen: Optional[str] = None) -> None:
        """Fix the choice to ``chosen`` (the current one if None) and delete the other
        candidates.

        Raises:
            AttributeError: if already fixed.
            ValueError: if ``chosen`` is no candidate, or nothing is chosen.
        """
        if not self.is_fixed and chosen is None and self.current_choice is None:
            raise ValueError(f'{self._describe()} has no choice to fix; pass one of '
                             f'{self.choices}')
        super().fix_chosen(chosen)
        self._drop_unchosen([self.current_choice])

    def sample_choice(self) -> str:
        """A candidate drawn uniformly."""
        return random.choice(self.choices)


@MODELS.register_module()
class OneShotProbMutableOP(OneShotMutableOP):
    """A one-shot op that samples its candidates with given probabilities.

    Args:
        candidates (dict | nn.ModuleDict): ``{name: op config or module}``.
        choice_probs (list): The probability of each candidate, in order; they sum
            to 1. Defaults to None (required).
        module_kwargs (dict, optional): Arguments added to every candidate config.
            Defaults to None.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, candidates: Candidates, choice_probs: Optional[Sequence[float]] = None,
                 module_kwargs: Optional[Dict] = None, alias: Optional[str] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(candidates, module_kwargs=module_kwargs, alias=alias,
                         init_cfg=init_cfg)
        self.choice_probs = self._check_probs(choice_probs)

    def _check_probs(self, choice_probs: Optional[Sequence[float]]) -> List[float]:
        if choice_probs is None or len(choice_probs) != self.num_choices:
            raise ValueError(f'choice_probs needs one probability per candidate '
                             f'{self.choices}; got {choice_probs!r}')
        if any(p < 0 for p in choice_probs) or abs(sum(choice_probs) - 1) > 1e-6:
            raise ValueError(f'choice_probs must be non-negative and sum to 1; got '
                             f'{list(choice_probs)} (sum {sum(choice_probs)})')
        return list(choice_probs)

    def sample_choice(self) -> str:
        """A candidate drawn with ``choice_probs``."""
        if self.is_fixed:  # the other candidates (and their probabilities) are gone
            return self.current_choice
        return random.choices(self.choices, weights=self.choice_probs, k=1)[0]

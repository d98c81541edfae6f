"""``DerivedMutable``: a choice computed from other mutables (expanded, divided,
concatenated), so that layers tied to one width follow it without a search of their
own."""
from typing import Any, Callable, Iterable, List, Optional, Sequence, Set, Union

import torch

from .base_mutable import BaseMutable


def make_divisible(value: float, divisor: int, min_value: Optional[int] = None,
                   min_ratio: float = 0.9) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, as MMRazor does.

    The result is at least ``min_value`` (``divisor`` if None) and, when rounding down
    would lose more than ``1 - min_ratio`` of ``value``, one ``divisor`` more.
    """
    if min_value is None:
        min_value = divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < min_ratio * value:
        new_value += divisor
    return new_value


def _collect_sources(obj: Any, found: Set[BaseMutable], seen: Set[int]) -> None:
    """Add the non-derived mutables reachable from ``obj`` through closures."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, DerivedMutable):
        found.update(obj.source_mutables)
    elif isinstance(obj, BaseMutable):
        found.add(obj)
    elif isinstance(obj, (list, tuple, set)):
        for item in obj:
            _collect_sources(item, found, seen)
    elif isinstance(obj, dict):
        for item in obj.values():
            _collect_sources(item, found, seen)
    elif callable(obj) and getattr(obj, '__closure__', None):
        for cell in obj.__closure__:
            try:
                _collect_sources(cell.cell_contents, found, seen)
            except ValueError:  # an empty cell
                continue


def find_source_mutables(*fns: Optional[Callable]) -> Set[BaseMutable]:
    """The non-derived mutables that the closures of ``fns`` read."""
    found: Set[BaseMutable] = set()
    seen: Set[int] = set()
    for fn in fns:
        if fn is not None:
            _collect_sources(fn, found, seen)
    return found


class DerivedMethodMixin:
    """Methods that derive a new mutable from ``self`` (a value or channel mutable).

    The derived mutable reads ``self`` each time it is asked, so it follows every
    change of ``self``. For channel mutables (with ``current_mask``) the derived
    choice is the number of active channels it implies.
    """

    def derive_same_mutable(self) -> 'DerivedMutable':
        """A mutable that always equals ``self``."""
        return self.derive_expand_mutable(1)

    def derive_expand_mutable(self, expand_ratio: Union[int, float]) -> 'DerivedMutable':
        """A mutable ``expand_ratio`` times ``self``.

        For channels, each channel of ``self`` becomes ``expand_ratio`` consecutive
        channels (as a ``(C, H, W)`` map flattened for a linear layer), so a mask that
        keeps channel ``c`` keeps channels ``[c * r, (c + 1) * r)``.
        """
        if isinstance(expand_ratio, bool) or not isinstance(expand_ratio, (int, float)) \
                or expand_ratio <= 0:
            raise ValueError(f'expand_ratio must be a positive number, got {expand_ratio!r}')
        source = self
        if _has_mask(source):
            if int(expand_ratio) != expand_ratio:
                raise ValueError('a channel mutable expands by a whole number of channels, '
                                 f'got expand_ratio={expand_ratio}')
            ratio = int(expand_ratio)

            def mask_fn() -> torch.Tensor:
                return source.current_mask.repeat_interleave(ratio)

            def choice_fn() -> int:
                return int(source.current_mask.sum()) * ratio

            return DerivedMutable(choice_fn, mask_fn)

        def value_fn() -> Any:
            return source.current_choice * expand_ratio

        return DerivedMutable(value_fn)

    def derive_divide_mutable(self, ratio: Union[int, float],
                              divisor: int = 8) -> 'DerivedMutable':
        """A mutable ``self / ratio``, rounded to a multiple of ``divisor``.

        For channels the derived mask keeps the first channels (sequential pruning).
        """
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or ratio <= 0:
            raise ValueError(f'ratio must be a positive number, got {ratio!r}')
        source = self

        if _has_mask(source):
            def choice_fn() -> int:
                return make_divisible(int(source.current_mask.sum()) / ratio, divisor)

            def mask_fn() -> torch.Tensor:
                num = int(source.current_mask.numel() // ratio)
                mask = torch.zeros(num, dtype=torch.bool, device=source.current_mask.device)
                mask[:min(choice_fn(), num)] = True
                return mask

            return DerivedMutable(choice_fn, mask_fn)

        def value_fn() -> int:
            return make_divisible(source.current_choice / ratio, divisor)

        return DerivedMutable(value_fn)

    @staticmethod
    def derive_concat_mutable(mutables: Sequence[Any]) -> 'DerivedMutable':
        """A channel mutable that concatenates the channels of ``mutables`` in order."""
        mutables = list(mutables)
        if not mutables or not all(_has_mask(m) for m in mutables):
            raise ValueError('derive_concat_mutable needs a non-empty list of channel '
                             f'mutables (with current_mask), got {mutables!r}')

        def choice_fn() -> int:
            return sum(int(m.current_mask.sum()) for m in mutables)

        def mask_fn() -> torch.Tensor:
            return torch.cat([m.current_mask for m in mutables])

        return DerivedMutable(choice_fn, mask_fn)

    def __mul__(self, other: Any) -> 'DerivedMutable':
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self.derive_expand_mutable(other)
        if isinstance(other, BaseMutable) and not _has_mask(other):
            source = self
            if _has_mask(source):
                return _expand_by_value(source, other)

            def product_fn() -> Any:
                return source.current_choice * other.current_choice

            return DerivedMutable(product_fn)
        return NotImplemented

    def __rmul__(self, other: Any) -> 'DerivedMutable':
        return self.__mul__(other)

    def __floordiv__(self, other: Any) -> 'DerivedMutable':
        if isinstance(other, tuple):
            if len(other) != 2:
                raise ValueError('mutable // (ratio, divisor) needs two numbers, '
                                 f'got {other!r}')
            return self.derive_divide_mutable(*other)
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return self.derive_divide_mutable(other)
        return NotImplemented


def _has_mask(obj: Any) -> bool:
    if isinstance(obj, DerivedMutable):  # derived from values: no channels
        return obj.mask_fn is not None
    return hasattr(type(obj), 'current_mask')


def _expand_by_value(channels: Any, ratio: BaseMutable) -> 'DerivedMutable':
    """Channels times a searchable ratio (a mutable value, e.g. an expand ratio).

    The layer is built for the largest ratio; the mask keeps its first
    ``active channels * current ratio`` channels.
    """

    def choice_fn() -> int:
        return int(int(channels.current_mask.sum()) * ratio.current_choice)

    def mask_fn() -> torch.Tensor:
        mask = channels.current_mask
        full = int(mask.numel() * max(ratio.choices))
        expanded = torch.zeros(full, dtype=torch.bool, device=mask.device)
        expanded[:choice_fn()] = True
        return expanded

    return DerivedMutable(choice_fn, mask_fn)


class DerivedMutable(BaseMutable, DerivedMethodMixin):
    """A mutable whose choice (and mask) are functions of other mutables.

    Its choice is computed when read, from the sources as they are then; it cannot be
    set or fixed on its own: set or fix the sources.

    Args:
        choice_fn (Callable[[], Any]): Computes the current choice.
        mask_fn (Callable[[], Tensor], optional): Computes the current channel mask.
            Defaults to None (not a channel mutable).
        source_mutables (Iterable[BaseMutable], optional): The mutables the functions
            read. Defaults to None: found in the functions' closures.
        alias (str, optional): Alias of the mutable. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, choice_fn: Callable[[], Any],
                 mask_fn: Optional[Callable[[], torch.Tensor]] = None,
                 source_mutables: Optional[Iterable[BaseMutable]] = None,
                 alias: Optional[str] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(alias=alias, init_cfg=init_cfg)
        self.choice_fn = choice_fn
        self.mask_fn = mask_fn
        if source_mutables is None:
            sources = find_source_mutables(choice_fn, mask_fn)
        else:
            sources = set()
            _collect_sources(list(source_mutables), sources, set())
        if not sources:
            raise ValueError('DerivedMutable found no source mutable in its functions; '
                             'pass source_mutables')
        # a plain list, not submodules: the sources belong to the model or units
        self._sources: List[BaseMutable] = sorted(sources, key=id)

    @property
    def source_mutables(self) -> List[BaseMutable]:
        """The non-derived mutables this one is computed from."""
        return list(self._sources)

    @property
    def current_choice(self) -> Any:
        return self.choice_fn()

    @current_choice.setter
    def current_choice(self, choice: Any) -> None:
        raise AttributeError('the choice of a DerivedMutable comes from its sources '
                             f'({", ".join(type(m).__name__ for m in self._sources)}); '
                             'set them instead')

    @property
    def current_mask(self) -> torch.Tensor:
        """The channel mask computed from the sources."""
        if self.mask_fn is None:
            raise AttributeError('this DerivedMutable derives a value, not channels; it '
                                 'has no current_mask')
        return self.mask_fn()

    @property
    def activated_channels(self) -> int:
        """How many channels the mask keeps."""
        return int(self.current_mask.sum())

    @property
    def is_fixed(self) -> bool:
        """Fixed when all its sources are."""
        return all(m.is_fixed for m in self._sources)

    @is_fixed.setter
    def is_fixed(self, is_fixed: bool) -> None:
        raise AttributeError('a DerivedMutable is fixed when its sources are; fix them')

    def fix_chosen(self, chosen: Any = None) -> None:
        """Fix every source that is not fixed yet, at its current choice."""
        if chosen is not None:
            raise AttributeError('a DerivedMutable cannot take a choice; fix its sources')
        for mutable in self._sources:
            if not mutable.is_fixed:
                mutable.fix_chosen()

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(current_choice={self.current_choice!r}, '
                f'sources={[type(m).__name__ for m in self._sources]})')

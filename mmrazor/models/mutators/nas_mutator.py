"""``NasMutator``: the one mutator of NAS supernets (op, value and channel choices)."""
import warnings
from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import DynamicChannelMixin
from mmrazor.models.mutables import (
    DiffMutableModule,
    MutableModule,
    MutableValue,
    OneShotMutableChannelUnit,
)
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import NameLookupError, closest_names

from .base_mutator import BaseMutator

SAMPLE_KINDS = ('random', 'max', 'min')


@MODELS.register_module()
class NasMutator(BaseMutator):
    """Groups the searchable choices of a supernet and sets them.

    Search groups are keyed ``'<mutable_prefix>_<i>'`` as in MMRazor: first one
    ``channel_<i>`` per mutable channel unit of the supernet's predefined dynamic
    ops, then ``module_<i>`` / ``value_<i>`` for the op and value mutables, grouped
    by ``custom_groups``, then by alias, then one group per remaining mutable. All
    mutables of a group take one choice, so they must have the same choices.

    Args:
        custom_groups (list[list[str]], optional): Groups of mutable names (as in
            ``named_modules``) or aliases that take one choice. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Examples:
        >>> mutator = NasMutator(custom_groups=[['backbone.layers.0.0', 'k1']])
        >>> mutator.prepare_from_supernet(supernet)
        >>> mutator.set_choices(mutator.sample_choices())
    """

    def __init__(self, custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if custom_groups is not None and (not isinstance(custom_groups, (list, tuple)) or any(
                not isinstance(group, (list, tuple)) or not all(isinstance(k, str) for k in group)
                for group in custom_groups)):
            raise TypeError(f'custom_groups must be a list of lists of mutable names or '
                            f'aliases, got {custom_groups!r}')
        self._custom_groups = [list(group) for group in custom_groups or []]
        self._search_groups: Optional[Dict[str, List[nn.Module]]] = None
        self._arch_params: Optional[nn.ParameterDict] = None
        # a plain list (no state dict keys, as MMRazor's): the units' mutables are the model's
        self.mutable_units: List[OneShotMutableChannelUnit] = []

    # ---- search space -----------------------------------------------------------

    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Find the supernet's choices and build the search groups.

        Raises:
            KeyError: a ``custom_groups`` entry names no mutable.
            ValueError: an entry is given twice (or with its alias), or mutables of
                one group have different choices.
        """
        # imported here: mmrazor.structures imports mmrazor.models when it runs
        from mmrazor.structures.subnet.fix_subnet import named_mutables

        # the subnet's own enumeration, so group members and subnet keys agree
        ops_and_values = [(name, m) for name, m in named_mutables(supernet)
                          if isinstance(m, (MutableModule, MutableValue))]
        groups = self._group(ops_and_values)
        units = self._channel_units(supernet)
        search_groups: Dict[str, List[nn.Module]] = {
            f'channel_{i}': [unit] for i, unit in enumerate(units)}
        for i, group in enumerate(groups):
            search_groups[f'{group[0].mutable_prefix}_{i}'] = group
        self._check_same_choices(search_groups, ops_and_values)
        self.mutable_units = units
        self._search_groups = search_groups

    @staticmethod
    def _channel_units(supernet: nn.Module) -> List[OneShotMutableChannelUnit]:
        """One unit per mutable channel of the supernet's dynamic ops, at its widest."""
        has_channels = any(isinstance(m, DynamicChannelMixin) and (
            m.mutable_in_channels is not None or m.mutable_out_channels is not None)
            for m in supernet.modules())
        if not has_channels:
            return []
        units = [u for u in OneShotMutableChannelUnit.init_from_predefined_model(supernet)
                 if u.is_mutable]
        for unit in units:
            unit.current_choice = unit.max_choice
        return units

    def _group(self, named: List[Any]) -> List[List[nn.Module]]:
        name2mutable = dict(named)
        alias2names: Dict[str, List[str]] = {}
        for name, mutable in named:
            if mutable.alias is not None:
                alias2names.setdefault(mutable.alias, []).append(name)
        self._check_custom_groups(name2mutable, alias2names)
        groups, grouped = [], set()
        for group in self._custom_groups:
            names = [n for key in group for n in alias2names.get(key, [key])]
            grouped.update(names)
            groups.append([name2mutable[n] for n in names])
        for names in alias2names.values():
            rest = [n for n in names if n not in grouped]
            if rest:
                grouped.update(rest)
                groups.append([name2mutable[n] for n in rest])
        groups += [[mutable] for name, mutable in named if name not in grouped]
        return groups

    def _check_custom_groups(self, name2mutable: Dict[str, nn.Module],
                             alias2names: Dict[str, List[str]]) -> None:
        valid = list(alias2names) + list(name2mutable)
        seen: Dict[str, str] = {}  # mutable name -> the custom_groups key that took it
        for group in self._custom_groups:
            for key in group:
                if key not in alias2names and key not in name2mutable:
                    close = closest_names(key, valid)
                    hint = (f'did you mean {", ".join(close)}?' if close else
                            f'valid names and aliases: {valid[:10]}')
                    raise NameLookupError(f'custom_groups entry {key!r} names no op or value '
                                   f'mutable of the supernet; {hint}')
                for name in alias2names.get(key, [key]):
                    if name in seen:
                        raise ValueError(f'custom_groups: mutable {name!r} is grouped '
                                         f'twice (by {seen[name]!r} and by {key!r})')
                    seen[name] = key

    @staticmethod
    def _check_same_choices(groups: Dict[str, List[nn.Module]], named: List[Any]) -> None:
        names = {id(m): name for name, m in named}
        for key, group in groups.items():
            if len(group) == 1:
                continue
            first = group[0].choices
            other = next((m for m in group[1:] if m.choices != first), None)
            if other is not None:
                raise ValueError(
                    f'search group {key!r} takes one choice, but its mutables have '
                    f'different choices: {names.get(id(group[0]))!r} {first} vs '
                    f'{names.get(id(other))!r} {other.choices}')

    @property
    def search_groups(self) -> Dict[str, List[nn.Module]]:
        """``{group key: mutables}``; mutables of a group take one choice."""
        if self._search_groups is None:
            raise RuntimeError('call prepare_from_supernet(supernet) first: the mutator '
                               'has no search space yet')
        return self._search_groups

    # ---- architecture parameters (differentiable search) --------------------------

    def prepare_arch_params(self) -> None:
        """One architecture parameter per group of differentiable mutables (DARTS),
        handed to each mutable of the group for its forward."""
        self._arch_params = nn.ParameterDict({
            key: nn.Parameter(torch.randn(group[0].num_choices) * 1e-3)
            for key, group in self.search_groups.items()
            if isinstance(group[0], DiffMutableModule)})
        for key, arch_param in self._arch_params.items():
            for mutable in self.search_groups[key]:
                mutable.set_forward_args(arch_param)

    @property
    def arch_params(self) -> nn.ParameterDict:
        """The architecture parameters, by group key."""
        if self._arch_params is None:
            raise RuntimeError('call prepare_arch_params() first: the mutator has no '
                               'architecture parameters yet')
        return self._arch_params

    def _arch_param(self, key: str) -> Optional[nn.Parameter]:
        if self._arch_params is None or key not in self._arch_params:
            return None
        return self._arch_params[key]

    # ---- choices ----------------------------------------------------------------

    def sample_choices(self, kind: str = 'random') -> Dict[str, Any]:
        """One choice per group: 'random', 'max' or 'min' (groups with an
        architecture parameter take the choice it prefers)."""
        if kind not in SAMPLE_KINDS:
            raise ValueError(f'kind must be one of {SAMPLE_KINDS}, got {kind!r}')
        choices = {}
        for key, group in self.search_groups.items():
            arch_param = self._arch_param(key)
            if arch_param is not None:
                choices[key] = group[0].sample_choice(arch_param)
            elif kind == 'random':
                choices[key] = group[0].sample_choice()
            else:
                choices[key] = getattr(group[0], f'{kind}_choice')
        return choices

    def _extreme_choices(self, kind: str) -> Dict[str, Any]:
        if self._arch_params:
            warnings.warn(f'groups with an architecture parameter have no {kind} choice; '
                          'they take the choice their parameter prefers', stacklevel=3)
        return self.sample_choices(kind)

    @property
    def max_choices(self) -> Dict[str, Any]:
        """The largest choice of every group."""
        return self._extreme_choices('max')

    @property
    def min_choices(self) -> Dict[str, Any]:
        """The smallest choice of every group."""
        return self._extreme_choices('min')

    @property
    def current_choices(self) -> Dict[str, Any]:
        """The choice of every group now."""
        return {key: group[0].current_choice for key, group in self.search_groups.items()}

    def set_choices(self, choices: Dict[str, Any]) -> None:
        """Give every group its choice; all are checked first, so on error none changes.

        Raises:
            KeyError: ``choices`` misses a group or names one that does not exist.
            ValueError: a choice is not one of its group's choices.
            AttributeError: a fixed mutable would change.
        """
        groups = self.search_groups
        unknown = [key for key in choices if key not in groups]
        if unknown:
            hints = '; '.join(f'{key!r} (did you mean {closest_names(key, list(groups), 3)}?)'
                              for key in unknown[:5])
            raise NameLookupError(f'set_choices: unknown search groups {hints}; the groups are '
                           f'{list(groups)}')
        missing = [key for key in groups if key not in choices]
        if missing:
            raise NameLookupError(f'set_choices needs a choice for every search group; missing '
                           f'{missing}')
        for key, group in groups.items():
            for mutable in group:
                self._check_choice(key, mutable, choices[key])
        for key, group in groups.items():
            for mutable in group:
                if not mutable.is_fixed:
                    mutable.current_choice = choices[key]

    @staticmethod
    def _check_choice(key: str, mutable: nn.Module, choice: Any) -> None:
        if mutable.is_fixed:
            if choice != mutable.current_choice:
                raise AttributeError(f'search group {key!r}: {type(mutable).__name__} is '
                                     f'fixed at {mutable.current_choice!r}; it cannot take '
                                     f'{choice!r}')
        elif hasattr(mutable, 'check_choice'):
            try:
                mutable.check_choice(choice)
            except ValueError as error:
                raise ValueError(f'search group {key!r}: {error}') from None
        elif choice not in mutable.candidate_choices:  # a channel unit
            raise ValueError(f'search group {key!r}: choice {choice!r} is not one of '
                             f'{mutable.candidate_choices}')

    def set_max_choices(self) -> None:
        """Every group at its largest choice."""
        self.set_choices(self.max_choices)

    def set_min_choices(self) -> None:
        """Every group at its smallest choice."""
        self.set_choices(self.min_choices)

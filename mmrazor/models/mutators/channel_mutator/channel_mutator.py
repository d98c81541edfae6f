"""``ChannelMutator``: builds a model's channel units and sets their widths."""
import copy
import inspect
import os.path as osp
import warnings
from typing import Any, Dict, Generic, List, Optional, Tuple, Type, TypeVar, Union

import torch.nn as nn
from mmengine import fileio
from mmengine.logging import print_log

from mmrazor.models.architectures.dynamic_ops.size_attributes import attach_size_hooks
from mmrazor.models.mutables import MutableChannelUnit
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.registry.suggestions import check_arguments, unknown_type_error
from mmrazor.utils.lookup import closest_names

from ..base_mutator import BaseMutator

ChannelUnitType = TypeVar('ChannelUnitType', bound=MutableChannelUnit)
UNIT_CFG_KEYS = ('type', 'default_args', 'units')
PARSE_MODES = ('Config', 'Predefined', '<a TASK_UTILS analyzer, e.g. ChannelAnalyzer>')


def _unknown_names(names: List[str], valid: List[str], what: str) -> str:
    parts = []
    for name in names:
        close = closest_names(name, valid)
        parts.append(f'{name!r}' + (f' (closest: {", ".join(close)})' if close else ''))
    return f'unknown {what} {", ".join(parts)}; the model has {len(valid)} of them'


def _keeps_all_channels(cfg: Dict, default_mode: Optional[str]) -> bool:
    """Whether a unit config's choice and candidate choices all keep all its
    ``init_args.num_channels`` channels (numbers equal to it, or ratios of 1 where
    its ``choice_mode``, else ``default_mode``, is ``'ratio'``)."""
    if not isinstance(cfg, dict):
        return False
    init_args = cfg.get('init_args') or {}
    num = init_args.get('num_channels')
    widths = list(init_args.get('candidate_choices') or [])
    if cfg.get('choice') is not None:
        widths.append(cfg['choice'])
    if not isinstance(num, int) or not widths:
        return False
    full = 1.0 if init_args.get('choice_mode', default_mode) == 'ratio' else num
    return all(width == full for width in widths)


@MODELS.register_module()
class ChannelMutator(BaseMutator[ChannelUnitType], Generic[ChannelUnitType]):
    """Prunes channels: finds the channel units of a model, makes their layers
    dynamic and sets their widths.

    Args:
        channel_unit_cfg (dict): ``type`` (a ``MutableChannelUnit`` name or class),
            ``default_args`` (constructor arguments of every unit) and ``units``
            (``{unit_name: {'init_args', 'channels', 'choice'}}``, or the path of a
            JSON/YAML file holding it or a whole mutator template). A unit the model
            lacks is an error, unless its every width keeps all its channels (it
            prunes nothing: skipped, with a log line). Defaults to
            ``dict(type='SequentialMutableChannelUnit')``.
        parse_cfg (dict): How units are found: ``type='Config'`` builds them from the
            ``channels`` in ``units``; ``type='Predefined'`` reads the mutable channels
            already in the model's dynamic ops; any other type is built from
            ``TASK_UTILS`` as an analyzer whose ``analyze(model)`` returns unit
            configs (``ChannelAnalyzer``). Defaults to ``dict(_scope_='mmrazor',
            type='ChannelAnalyzer', demo_input=(1, 3, 224, 224),
            tracer_type='BackwardTracer')``.
        custom_groups (list, optional): Lists of unit names that take one choice in
            ``sample_choices``. Defaults to None.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Examples:
        >>> mutator = ChannelMutator(
        ...     channel_unit_cfg=dict(type='L1MutableChannelUnit',
        ...                           default_args=dict(choice_mode='ratio')),
        ...     parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 224, 224)))
        >>> mutator.prepare_from_supernet(model)
        >>> mutator.set_choices({'backbone.layer1.0.conv1_(0, 64)_64': 0.5})
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(type='SequentialMutableChannelUnit'),  # noqa: B006
                 parse_cfg: Dict = dict(  # noqa: B006
                     _scope_='mmrazor', type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224), tracer_type='BackwardTracer'),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.unit_class, self.unit_default_args, self.units_cfg = \
            self._parse_channel_unit_cfg(channel_unit_cfg)
        if not isinstance(parse_cfg, dict) or 'type' not in parse_cfg:
            raise TypeError(f'parse_cfg must be a dict with a type ({", ".join(PARSE_MODES)})'
                            f', got {parse_cfg!r}')
        self.parse_cfg = copy.deepcopy(parse_cfg)
        self.custom_groups = [list(group) for group in custom_groups or []]
        self.units: nn.ModuleList = nn.ModuleList()
        self._search_groups: Dict[int, List[ChannelUnitType]] = {}

    # ---- configuration ----------------------------------------------------------

    def _parse_channel_unit_cfg(self, cfg: Dict) -> Tuple[type, Dict, Dict[str, Dict]]:
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise TypeError(f'channel_unit_cfg must be a dict with a type (a channel unit '
                            f'name), got {cfg!r}')
        unknown = sorted(set(cfg) - set(UNIT_CFG_KEYS))
        if unknown:
            raise KeyError(f'unknown keys {unknown} in channel_unit_cfg; valid keys: '
                           f'{", ".join(UNIT_CFG_KEYS)}')
        unit_class = self._unit_class(cfg['type'])
        default_args = dict(cfg.get('default_args') or {})
        check_arguments(unit_class, default_args, 'channel_unit_cfg.default_args')
        units = cfg.get('units') or {}
        if isinstance(units, str):
            units = self._load_units(units)
        if not isinstance(units, dict):
            raise TypeError(f'channel_unit_cfg.units must be a dict or a file path, got '
                            f'{type(units).__name__}')
        return unit_class, default_args, copy.deepcopy(units)

    @staticmethod
    def _unit_class(unit_type: Union[str, Type]) -> Type[MutableChannelUnit]:
        if isinstance(unit_type, str):
            unit_class = MODELS.get(unit_type)
            if unit_class is None:
                raise unknown_type_error(unit_type, MODELS)
        else:
            unit_class = unit_type
        if not (isinstance(unit_class, type) and issubclass(unit_class, MutableChannelUnit)):
            raise TypeError(f'channel_unit_cfg.type must be a MutableChannelUnit, got '
                            f'{unit_class!r}')
        return unit_class

    @staticmethod
    def _load_units(path: str) -> Dict:
        if not osp.isfile(path):
            raise FileNotFoundError(f'channel_unit_cfg.units is a path, but there is no '
                                    f'file {path!r}')
        units = fileio.load(path)
        if isinstance(units, dict) and 'channel_unit_cfg' in units:  # a whole template
            units = units['channel_unit_cfg'].get('units', {})
        return units

    # ---- preparing --------------------------------------------------------------

    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """Build the units of ``supernet`` and make the layers of prunable ones dynamic.

        Everything is checked before the model changes: unit names the model lacks,
        channels it lacks and out-of-range choices raise with the model untouched.
        """
        parse_type = self.parse_cfg['type']
        if parse_type == 'Config':
            units = self._units_from_config(supernet)
        elif parse_type == 'Predefined':
            units = self._units_from_predefined(supernet)
        else:
            units = self._units_from_analyzer(supernet)
            stuck = [f'{u.name} ({"; ".join(u.unprunable_reasons())})'
                     for u in units if not u.is_mutable]
            if stuck:
                warnings.warn(f'{len(stuck)} traced units keep their width '
                              f'({self.unit_class.__name__}): '
                              + ', '.join(stuck[:5]) + (' ...' if len(stuck) > 5 else ''),
                              stacklevel=2)
        for unit in units:
            if unit.is_mutable:
                unit.check_channels(supernet)
        for unit in units:
            if unit.is_mutable:
                unit.prepare_for_pruning(supernet)
        attach_size_hooks(supernet)  # head_dims follow the pruned qkv widths
        self.units = nn.ModuleList(units)
        self._search_groups = self._build_search_groups()

    def _init_args(self, name: str, base: Dict, user: Dict) -> Dict:
        """Constructor arguments: the analysis's, then default_args, then the unit's."""
        user_args = dict(user.get('init_args') or {})
        found, asked = base.get('num_channels'), user_args.get('num_channels')
        if found is not None and asked is not None and found != asked:
            raise ValueError(f'unit {name!r} has {found} channels in this model, but the '
                             f'unit config says {asked}; was it made for another model?')
        return {**base, **self.unit_default_args, **user_args}

    def _build_unit(self, model: nn.Module, name: str, init_args: Dict, channels: Dict,
                    choice: Any) -> MutableChannelUnit:
        try:
            return self.unit_class.init_from_cfg(
                model, dict(init_args=init_args, channels=channels, choice=choice))
        except (KeyError, ValueError, TypeError) as error:
            raise type(error)(f'unit {name!r}: {error}') from error

    def _units_from_config(self, model: nn.Module) -> List[MutableChannelUnit]:
        if not self.units_cfg:
            raise ValueError("parse_cfg type 'Config' builds units from "
                             'channel_unit_cfg.units, which is empty')
        units = []
        for name, cfg in self.units_cfg.items():
            if not cfg.get('channels'):
                raise KeyError(f"unit {name!r} has no 'channels'; parse_cfg type 'Config' "
                               "needs them (config_template(with_channels=True) writes "
                               'them)')
            init_args = self._init_args(name, {}, cfg)
            units.append(self._build_unit(model, name, init_args, cfg['channels'], None))
        self._apply_choices(units, {n: c.get('choice') for n, c in self.units_cfg.items()})
        return units

    def _units_from_predefined(self, model: nn.Module) -> List[MutableChannelUnit]:
        units = self.unit_class.init_from_predefined_model(model)
        self._check_known({u.name for u in units})
        self._apply_choices(units, {n: c.get('choice') for n, c in self.units_cfg.items()})
        return units

    def _units_from_analyzer(self, model: nn.Module) -> List[MutableChannelUnit]:
        analyzer = TASK_UTILS.build(self.parse_cfg)
        unit_configs = analyzer.analyze(model)
        self._check_known(set(unit_configs))
        units = []
        for name, cfg in unit_configs.items():
            user = self.units_cfg.get(name, {})
            init_args = self._init_args(name, dict(cfg.get('init_args') or {}), user)
            units.append(self._build_unit(model, name, init_args, cfg.get('channels', {}),
                                          None))
        self._apply_choices(units, {n: c.get('choice') for n, c in self.units_cfg.items()})
        return units

    def _check_known(self, names: set) -> None:
        unknown = [name for name in self.units_cfg if name not in names]
        # a unit whose every width is its full width prunes nothing: the model may
        # lack it because its channels are frozen (MMRazor's JSON lists the output
        # channels of the classifier, e.g. 'head.fc_(0, 1000)_1000')
        param = inspect.signature(self.unit_class).parameters.get('choice_mode')
        mode = self.unit_default_args.get('choice_mode', param and param.default)
        unpruned = [name for name in unknown
                    if _keeps_all_channels(self.units_cfg[name], mode)]
        if unpruned:
            print_log(f'channel_unit_cfg.units: skipped {len(unpruned)} units the model '
                      f'does not have, none of which prunes a channel: '
                      f'{", ".join(unpruned)}', logger='current')
            unknown = [name for name in unknown if name not in unpruned]
        if unknown:
            raise KeyError('channel_unit_cfg.units: ' +
                           _unknown_names(unknown, sorted(names), 'unit names'))

    @staticmethod
    def _apply_choices(units: List[MutableChannelUnit], choices: Dict[str, Any]) -> None:
        by_name = {unit.name: unit for unit in units}
        for name, choice in choices.items():
            if choice is not None and name in by_name:
                by_name[name].current_choice = choice

    def _build_search_groups(self) -> Dict[int, List[ChannelUnitType]]:
        name2unit = {unit.name: unit for unit in self.mutable_units}
        groups, grouped = [], set()
        for group in self.custom_groups:
            unknown = [name for name in group if name not in name2unit]
            if unknown:
                raise KeyError('custom_groups: ' + _unknown_names(
                    unknown, list(name2unit), 'mutable unit names'))
            twice = [name for name in group if name in grouped]
            if twice:
                raise ValueError(f'custom_groups: {twice} appear in more than one group')
            grouped.update(group)
            groups.append([name2unit[name] for name in group])
        groups += [[unit] for name, unit in name2unit.items() if name not in grouped]
        return dict(enumerate(groups))

    # ---- units and choices ------------------------------------------------------

    @property
    def mutable_units(self) -> List[ChannelUnitType]:
        """The units that can be pruned."""
        return [unit for unit in self.units if unit.is_mutable]

    @property
    def search_groups(self) -> Dict[int, List[ChannelUnitType]]:
        return self._search_groups

    def _mutable_unit(self, name: str) -> ChannelUnitType:
        by_name = {unit.name: unit for unit in self.mutable_units}
        if name not in by_name:
            raise KeyError(_unknown_names([name], list(by_name), 'mutable unit name'))
        return by_name[name]

    def sample_choices(self) -> Dict[str, Any]:
        """A random choice per search group (units of a group share it)."""
        choices = {}
        for group in self._search_groups.values():
            choice = group[0].sample_choice()
            choices.update({unit.name: choice for unit in group})
        return choices

    def set_choices(self, choices: Dict[str, Any]) -> None:
        """Set the choices of the named units; on any error none is changed."""
        units = {name: self._mutable_unit(name) for name in choices}
        before = {name: unit.current_choice for name, unit in units.items()}
        try:
            for name, choice in choices.items():
                units[name].current_choice = choice
        except Exception:
            for name, choice in before.items():
                if not units[name].is_fixed:
                    units[name].current_choice = choice
            raise

    @property
    def current_choices(self) -> Dict[str, Any]:
        """``{unit name: choice}`` of the mutable units."""
        return {unit.name: unit.current_choice for unit in self.mutable_units}

    @property
    def choice_template(self) -> Dict[str, Any]:
        """The dict ``set_choices`` takes, filled with the current choices."""
        return self.current_choices

    def config_template(self, only_mutable_units: bool = False,
                        with_unit_init_args: bool = False,
                        with_channels: bool = False) -> Dict:
        """The mutator as a config (what a pruned model's JSON stores).

        With channels the config rebuilds the same units with ``parse_cfg``
        ``type='Config'``, no tracing needed.
        """
        units = self.mutable_units if only_mutable_units else list(self.units)
        parse_cfg = dict(type='Config') if with_channels else copy.deepcopy(self.parse_cfg)
        return dict(
            type=type(self).__name__,
            channel_unit_cfg=dict(
                type=self.unit_class.__name__, default_args=dict(self.unit_default_args),
                units={unit.name: unit.config_template(with_unit_init_args, with_channels)
                       for unit in units}),
            parse_cfg=parse_cfg)

    def fix_channel_mutables(self) -> None:
        """Fix the width of every mutable unit for good."""
        for unit in self.mutable_units:
            if not unit.is_fixed:
                unit.fix_chosen()

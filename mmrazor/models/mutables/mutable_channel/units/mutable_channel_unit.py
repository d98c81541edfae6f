"""``MutableChannelUnit``: a channel unit that can be pruned, and the one function
that makes a model's layers dynamic for it."""
import math
from abc import abstractmethod
from typing import Any, ClassVar, Dict, Iterable, List, Optional, Type

import torch
import torch.nn as nn
from mmcv.cnn.bricks import Conv2dAdaptivePadding
from mmcv.cnn.bricks import wrappers as mmcv_wrappers
from mmengine.model.utils import _BatchNormXd
from mmengine.utils.dl_utils.parrots_wrapper import SyncBatchNorm as MMEngineSyncBN
from torch.nn.modules.linear import NonDynamicallyQuantizableLinear

from mmrazor.models.architectures.dynamic_ops import (
    DynamicBatchNorm1d,
    DynamicBatchNorm2d,
    DynamicBatchNorm3d,
    DynamicBatchNormXd,
    DynamicChannelMixin,
    DynamicConv2d,
    DynamicConv2dAdaptivePadding,
    DynamicEmbedding,
    DynamicGroupNorm,
    DynamicLayerNorm,
    DynamicLinear,
    DynamicSyncBatchNorm,
    DynamicTorchMultiheadAttention,
)
from mmrazor.models.architectures.dynamic_ops.dynamic_layer_norm_2d import (
    CHANNELS_FIRST_LAYER_NORMS,
    DynamicLayerNorm2d,
)
from mmrazor.models.architectures.dynamic_ops.parametrized_param import (
    param_container,
    register_param_channels,
)
from mmrazor.utils.lookup import get_module, replace_module

from ...derived_mutable import DerivedMutable
from ..base_mutable_channel import BaseMutableChannel
from ..mutable_channel_container import MutableChannelContainer
from .channel_unit import Channel, ChannelUnit, ParamChannel

# Exact static types (a subclass may compute differently, so it is not pruned).
DYNAMIC_OPS: Dict[Type[nn.Module], Type[nn.Module]] = {
    nn.Conv2d: DynamicConv2d,
    Conv2dAdaptivePadding: DynamicConv2dAdaptivePadding,
    nn.Linear: DynamicLinear,
    # mmcv's wrappers only add empty-batch handling to the torch layers
    mmcv_wrappers.Conv2d: DynamicConv2d,
    mmcv_wrappers.Linear: DynamicLinear,
    nn.BatchNorm1d: DynamicBatchNorm1d,
    nn.BatchNorm2d: DynamicBatchNorm2d,
    nn.BatchNorm3d: DynamicBatchNorm3d,
    _BatchNormXd: DynamicBatchNormXd,
    nn.SyncBatchNorm: DynamicSyncBatchNorm,
    MMEngineSyncBN: DynamicSyncBatchNorm,  # what 'SyncBN' builds in OpenMMLab configs
    nn.LayerNorm: DynamicLayerNorm,
    nn.GroupNorm: DynamicGroupNorm,
    **dict.fromkeys(CHANNELS_FIRST_LAYER_NORMS, DynamicLayerNorm2d),
    # torch's attention: its packed in-projection, and out_proj (a plain nn.Linear
    # subclass that only opts out of dynamic quantization)
    nn.MultiheadAttention: DynamicTorchMultiheadAttention,
    nn.Embedding: DynamicEmbedding,
    NonDynamicallyQuantizableLinear: DynamicLinear,
}
UNIT_CONFIG_KEYS = ('init_args', 'channels', 'choice')


def _static_channel_size(module: nn.Module, is_output: bool) -> Optional[int]:
    if isinstance(module, DynamicChannelMixin):
        return module.channel_sizes[1 if is_output else 0]
    if isinstance(module, nn.LayerNorm):
        return module.normalized_shape[-1]
    names = (('out_channels', 'out_features', 'num_features') if is_output else
             ('in_channels', 'in_features', 'num_features'))
    for name in names:
        if isinstance(getattr(module, name, None), int):
            return getattr(module, name)
    return None


def to_dynamic_op(module: nn.Module,
                  op_map: Dict[Type[nn.Module], Type[nn.Module]]) -> Optional[nn.Module]:
    """The dynamic op of ``module`` (itself if already dynamic), or None if it has none."""
    if isinstance(module, DynamicChannelMixin):
        return module
    op = op_map.get(type(module))
    if op is None or not op.is_convertible(module):
        return None
    return op.convert_from(module)


def replace_with_dynamic_ops(model: nn.Module, names: Iterable[str],
                             op_map: Dict[Type[nn.Module], Type[nn.Module]] = DYNAMIC_OPS
                             ) -> Dict[str, nn.Module]:
    """Replace the layers ``names`` of ``model`` with dynamic ops sharing their weights.

    Returns:
        Dict[str, nn.Module]: The dynamic op now at each name.

    Raises:
        TypeError: for a layer that has no dynamic op in ``op_map`` (nothing replaced).
    """
    names = list(dict.fromkeys(names))
    new_ops = {}
    for name in names:
        module = get_module(model, name)
        new = to_dynamic_op(module, op_map)
        if new is None:
            raise TypeError(f'{name!r} is a {type(module).__name__}, which has no dynamic '
                            f'op; prunable types: '
                            f'{", ".join(t.__name__ for t in op_map)}')
        new_ops[name] = new
    # a layer held under several names (a head shared between levels) is one layer:
    # every name gets the same dynamic op
    aliases: Dict[int, List[str]] = {}
    for alias, module in model.named_modules(remove_duplicate=False):
        aliases.setdefault(id(module), []).append(alias)
    # parents first: a layer inside another (an attention's out_proj) is then put into
    # the parent's dynamic op, which took over the parent's children
    for name, new in sorted(new_ops.items(), key=lambda item: item[0].count('.')):
        old = get_module(model, name)
        if new is not old:
            for alias in aliases.get(id(old), [name]):
                replace_module(model, alias, new)
    return new_ops


class MutableChannelUnit(ChannelUnit):
    """A channel unit with a mutable channel deciding its width.

    Subclasses create ``self.mutable_channel`` and define how a choice becomes a mask.
    ``prepare_for_pruning`` makes the unit's layers dynamic and connects them to the
    mutable channel.

    Args:
        num_channels (int): The width of the unit.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    dynamic_ops: ClassVar[Dict[Type[nn.Module], Type[nn.Module]]] = DYNAMIC_OPS
    mutable_channel: BaseMutableChannel

    # ---- building ---------------------------------------------------------------

    @property
    def init_args(self) -> Dict[str, Any]:
        """The constructor arguments that rebuild this unit."""
        return dict(num_channels=self.num_channels)

    @classmethod
    def init_from_cfg(cls, model: nn.Module, config: Dict) -> 'MutableChannelUnit':
        """A unit from ``{'init_args': {...}, 'channels': {...}, 'choice': ...}``.

        ``channels`` holds ``input_related``/``output_related`` lists of channel
        configs naming modules of ``model``; ``num_channels`` may be left out of
        ``init_args`` when channels are given.
        """
        unknown = sorted(set(config) - set(UNIT_CONFIG_KEYS))
        if unknown:
            raise KeyError(f'unknown keys {unknown} in a unit config; valid keys: '
                           f'{", ".join(UNIT_CONFIG_KEYS)}')
        channels = cls._channels_from_cfg(model, config.get('channels') or {})
        init_args = dict(config.get('init_args') or {})
        if 'num_channels' not in init_args:
            if not channels:
                raise KeyError('a unit config needs init_args.num_channels or channels')
            init_args['num_channels'] = channels[0].num_channels // channels[0].expand_ratio
        unit = cls(**init_args)
        for channel in channels:
            unit.add_channel(channel)
        if 'choice' in config and config['choice'] is not None:
            unit.current_choice = config['choice']
        return unit

    @staticmethod
    def _channels_from_cfg(model: nn.Module, channels: Dict) -> List[Channel]:
        sides = ('input_related', 'output_related')
        unknown = sorted(set(channels) - set(sides))
        if unknown:
            raise KeyError(f'unknown keys {unknown} in unit channels; valid: {sides}')
        result = []
        for side in sides:
            for cfg in channels.get(side, []):
                cfg = dict(cfg, is_output_channel=side == 'output_related')
                result.append(Channel.init_from_cfg(model, cfg))
        return result

    @classmethod
    def init_from_channel_unit(cls, unit: ChannelUnit,
                               args: Optional[Dict] = None) -> 'MutableChannelUnit':
        """A unit of this class over the channels of ``unit``."""
        new = cls(unit.num_channels, **(args or {}))
        for channel in unit.channels:
            new.add_channel(channel)
        return new

    @classmethod
    def _args_from_mutable(cls, mutable: BaseMutableChannel) -> Dict:
        """Constructor arguments matching a predefined mutable channel."""
        return {}

    @classmethod
    def init_from_predefined_model(cls, model: nn.Module) -> List['MutableChannelUnit']:
        """One unit per mutable channel already registered in the model's dynamic ops."""
        found: Dict[BaseMutableChannel, List[Channel]] = {}
        for name, module in model.named_modules():
            if not isinstance(module, DynamicChannelMixin):
                continue
            for is_output, side in ((True, 'out_channels'), (False, 'in_channels')):
                container = module.get_mutable_attr(side)
                if not isinstance(container, MutableChannelContainer):
                    continue
                for (start, end), mutable in container.mutable_channels.items():
                    source = mutable
                    if isinstance(mutable, DerivedMutable):
                        sources = mutable.source_mutables
                        if len(sources) != 1:
                            continue  # a concatenation: each source has its own unit
                        source = sources[0]
                    if not isinstance(source, BaseMutableChannel):
                        continue
                    ratio = (end - start) // source.num_channels
                    found.setdefault(source, []).append(
                        Channel(name, module, (start, end), is_output_channel=is_output,
                                expand_ratio=ratio))
        units = []
        for mutable, channels in found.items():
            unit = cls(mutable.num_channels, **cls._args_from_mutable(mutable))
            unit.mutable_channel = mutable
            for channel in channels:
                unit.add_channel(channel)
            units.append(unit)
        return units

    # ---- pruning ----------------------------------------------------------------

    @property
    def channel_multiple(self) -> int:
        """What the unit's width must be a multiple of for its layers to stay valid:
        a ``GroupNorm`` keeps its channels per group."""
        multiple = 1
        for channel in self.channels:
            module = channel.module
            if isinstance(module, nn.GroupNorm):
                per_group = module.num_channels // module.num_groups
                multiple = math.lcm(multiple,
                                    per_group // math.gcd(per_group, channel.expand_ratio))
        return multiple

    @property
    def is_mutable(self) -> bool:
        """Whether every related layer can be made dynamic (and the unit has outputs)."""
        return bool(self.output_related) and not self.unprunable_reasons()

    def unprunable_reasons(self) -> List[str]:
        """Why layers of the unit cannot be pruned (empty when they all can)."""
        reasons = []
        for channel in self.layer_channels:
            module = channel.module
            op = self.dynamic_ops.get(type(module))
            if not isinstance(module, DynamicChannelMixin) and (
                    op is None or not op.is_convertible(module)):
                reasons.append(f'{channel.name} ({type(module).__name__})')
        return reasons

    @property
    def layer_channels(self) -> List[Channel]:
        """The channels of layers (each made a dynamic op), not of parameters."""
        return [c for c in self.channels if not isinstance(c, ParamChannel)]

    @property
    def param_channels(self) -> List[ParamChannel]:
        """The channels of parameters used directly in ``forward``."""
        return [c for c in self.channels if isinstance(c, ParamChannel)]

    def check_channels(self, model: nn.Module) -> None:
        """Raise if a channel names a missing layer or channels the layer lacks."""
        for channel in self.param_channels:
            get_module(model, channel.owner_name)
        for channel in self.layer_channels:
            module = get_module(model, channel.name)
            size = _static_channel_size(module, channel.is_output_channel)
            side = 'output' if channel.is_output_channel else 'input'
            if size is not None and channel.end > size:
                raise ValueError(f'unit {self.name!r}: {channel.name!r} has {size} {side} '
                                 f'channels, but the unit uses [{channel.start}, '
                                 f'{channel.end})')

    def prepare_for_pruning(self, model: nn.Module) -> None:
        """Make the unit's layers dynamic and let the mutable channel decide them."""
        if not self.output_related:
            raise ValueError(f'unit {self.name!r} has no output-related layer to prune')
        self.check_channels(model)
        new_ops = replace_with_dynamic_ops(model, [c.name for c in self.layer_channels],
                                           self.dynamic_ops)
        for channel in self.layer_channels:
            channel.module = new_ops[channel.name]
            self._add_containers(channel.module)
        for channel in self.param_channels:
            channel.module = get_module(model, channel.owner_name)
        for channel in self.channels:
            if self._is_registered(channel):
                continue
            mutable = self.mutable_channel if channel.expand_ratio == 1 else \
                self.mutable_channel.derive_expand_mutable(channel.expand_ratio)
            if isinstance(channel, ParamChannel):
                register_param_channels(channel.module, channel.param_name, channel.dim,
                                        mutable, channel.start, channel.end)
                continue
            MutableChannelContainer.register_mutable_channel_to_module(
                channel.module, mutable, channel.is_output_channel, channel.start,
                channel.end)

    def _is_registered(self, channel: Channel) -> bool:
        """Whether the channel already follows this unit (a predefined model)."""
        if isinstance(channel, ParamChannel):
            container = param_container(channel.module, channel.param_name, channel.dim)
        else:
            side = 'out_channels' if channel.is_output_channel else 'in_channels'
            container = channel.module.get_mutable_attr(side)
        registered = container.mutable_channels.get(channel.index)
        if isinstance(registered, DerivedMutable):
            return registered.source_mutables == [self.mutable_channel]
        return registered is self.mutable_channel

    @staticmethod
    def _add_containers(module: DynamicChannelMixin) -> None:
        for index, side in enumerate(('in_channels', 'out_channels')):
            if module.get_mutable_attr(side) is None:
                module.register_mutable_attr(
                    side, MutableChannelContainer(module.channel_sizes[index]))

    # ---- choices ----------------------------------------------------------------

    @property
    @abstractmethod
    def current_choice(self) -> Any:
        """The unit's width, in the unit's choice form."""

    @current_choice.setter
    @abstractmethod
    def current_choice(self, choice: Any) -> None:
        """Set the width."""

    @abstractmethod
    def sample_choice(self) -> Any:
        """A random valid choice."""

    @property
    @abstractmethod
    def min_choice(self) -> Any:
        """The smallest choice."""

    @property
    @abstractmethod
    def max_choice(self) -> Any:
        """The largest choice."""

    @property
    def current_mask(self) -> torch.Tensor:
        """Which of the unit's channels are kept."""
        return self.mutable_channel.current_mask

    @property
    def is_fixed(self) -> bool:
        """Whether the width is fixed for good."""
        return self.mutable_channel.is_fixed

    def fix_chosen(self, choice: Any = None) -> None:
        """Set ``choice`` (if given) and fix the width for good."""
        if choice is not None:
            self.current_choice = choice
        self.mutable_channel.fix_chosen()

    def config_template(self, with_init_args: bool = False,
                        with_channels: bool = False) -> Dict:
        """The unit as a config: ``choice``, optionally ``init_args`` and ``channels``."""
        config: Dict[str, Any] = dict(choice=self.current_choice)
        if with_init_args:
            config['init_args'] = self.init_args
        if with_channels:
            config['channels'] = self.channels_template()
        return config

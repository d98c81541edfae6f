"""``Channel`` and ``ChannelUnit``: which layer channels must keep one width together."""
from typing import Any, Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.model import BaseModule

from mmrazor.utils.lookup import get_module

CHANNEL_KEYS = ('name', 'start', 'end', 'expand_ratio', 'is_output_channel')
PARAM_CHANNEL_KEYS = CHANNEL_KEYS + ('dim',)


class Channel:
    """A range of the input or output channels of one layer.

    Not an ``nn.Module``: it points at a layer of the model without owning it, so a
    unit's state dict does not copy the model's weights.

    Args:
        name (str): The layer's name in the model, e.g. ``'backbone.layer1.0.conv1'``.
        module (nn.Module): The layer.
        index (tuple): ``(start, end)``: the channels ``[start, end)``.
        node (Any, optional): The tracer's graph node, if any. Defaults to None.
        is_output_channel (bool): Output (True) or input channels. Defaults to True.
        expand_ratio (int): How many of these channels each unit channel stands for
            (a ``(C, H, W)`` map flattened into a linear layer). Defaults to 1.
    """

    def __init__(self, name: str, module: nn.Module, index: Tuple[int, int],
                 node: Any = None, is_output_channel: bool = True,
                 expand_ratio: int = 1) -> None:
        start, end = index
        if not 0 <= start < end:
            raise ValueError(f'channel index of {name!r} must satisfy 0 <= start < end, '
                             f'got {index}')
        if (end - start) % expand_ratio:
            raise ValueError(f'channels [{start}, {end}) of {name!r} do not split into '
                             f'groups of expand_ratio={expand_ratio}')
        self.name = name
        self.module = module
        self.index = (start, end)
        self.node = node
        self.is_output_channel = is_output_channel
        self.expand_ratio = expand_ratio

    @property
    def start(self) -> int:
        return self.index[0]

    @property
    def end(self) -> int:
        return self.index[1]

    @property
    def num_channels(self) -> int:
        """Channels in the range, before undoing the expansion."""
        return self.end - self.start

    @classmethod
    def init_from_cfg(cls, model: nn.Module, config: Dict) -> 'Channel':
        """A channel from ``{'name', 'start', 'end', 'expand_ratio',
        'is_output_channel'}``; the name must be a module of ``model``. With a
        ``dim`` key, the name is a parameter (:class:`ParamChannel`)."""
        unknown = set(config) - set(PARAM_CHANNEL_KEYS)
        if unknown or 'name' not in config or 'start' not in config or 'end' not in config:
            raise KeyError(f'a channel config has keys {CHANNEL_KEYS} (name, start and end '
                           f"required; 'dim' for a parameter); got {sorted(config)}")
        if 'dim' in config:
            return ParamChannel.from_cfg(model, config)
        return cls(config['name'], get_module(model, config['name']),
                   (config['start'], config['end']),
                   is_output_channel=config.get('is_output_channel', True),
                   expand_ratio=config.get('expand_ratio', 1))

    def config_template(self) -> Dict:
        """The channel as a config dict (see ``init_from_cfg``)."""
        return dict(name=self.name, start=self.start, end=self.end,
                    expand_ratio=self.expand_ratio, is_output_channel=self.is_output_channel)

    def __repr__(self) -> str:
        side = 'out' if self.is_output_channel else 'in'
        return (f'Channel({self.name}, {side}, {self.index}'
                f'{f", expand_ratio={self.expand_ratio}" if self.expand_ratio != 1 else ""})')


class ParamChannel(Channel):
    """A range of a model parameter along one of its dims (a layer scale, a position
    embedding): sliced with the unit, as a layer's channels are.

    Args:
        name (str): The parameter's name in the model, e.g.
            ``'backbone.stages.0.1.gamma'``.
        module (nn.Module): The module holding the parameter.
        index (tuple): ``(start, end)``: the channels ``[start, end)`` along ``dim``.
        dim (int): The parameter's dim that meets the unit.
        expand_ratio (int): See :class:`Channel`. Defaults to 1.
    """

    def __init__(self, name: str, module: nn.Module, index: Tuple[int, int], dim: int,
                 expand_ratio: int = 1) -> None:
        super().__init__(name, module, index, is_output_channel=False,
                         expand_ratio=expand_ratio)
        self.dim = dim

    @property
    def owner_name(self) -> str:
        """The name of the module holding the parameter."""
        return self.name.rpartition('.')[0]

    @property
    def param_name(self) -> str:
        """The parameter's attribute name on its module."""
        return self.name.rpartition('.')[2]

    @classmethod
    def from_cfg(cls, model: nn.Module, config: Dict) -> 'ParamChannel':
        """A parameter channel from a channel config with a ``dim`` key."""
        owner_name, _, attr = config['name'].rpartition('.')
        owner = get_module(model, owner_name) if owner_name else model
        param = dict(owner.named_parameters(recurse=False)).get(attr)
        if param is None:
            raise KeyError(f"{config['name']!r} is not a parameter of the model "
                           f'({type(owner).__name__} has '
                           f'{sorted(n for n, _ in owner.named_parameters(recurse=False))})')
        dim = config['dim']
        if not isinstance(dim, int) or not 0 <= dim < param.dim() or \
                config['end'] > param.shape[dim]:
            raise ValueError(f"{config['name']!r} of shape {tuple(param.shape)} has no "
                             f"channels [{config['start']}, {config['end']}) along dim "
                             f'{dim!r}')
        return cls(config['name'], owner, (config['start'], config['end']), dim,
                   config.get('expand_ratio', 1))

    def config_template(self) -> Dict:
        return dict(super().config_template(), dim=self.dim)

    def __repr__(self) -> str:
        return f'ParamChannel({self.name}, dim={self.dim}, {self.index})'


class ChannelUnit(BaseModule):
    """A group of channels that must keep one width: layers producing them
    (``output_related``) and layers reading them (``input_related``).

    Args:
        num_channels (int): The width of the unit.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self, num_channels: int, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(num_channels, bool) or not isinstance(num_channels, int) \
                or num_channels < 1:
            raise ValueError(f'num_channels must be a positive int, got {num_channels!r}')
        self.num_channels = num_channels
        self.input_related: List[Channel] = []
        self.output_related: List[Channel] = []

    @property
    def channels(self) -> List[Channel]:
        """Output-related then input-related channels."""
        return self.output_related + self.input_related

    def add_channel(self, channel: Channel) -> None:
        """Add ``channel`` to ``output_related`` or ``input_related``.

        Raises:
            ValueError: if its width is not the unit's times its expand ratio.
        """
        if channel.num_channels != self.num_channels * channel.expand_ratio:
            raise ValueError(f'{channel} has {channel.num_channels} channels; a unit of '
                             f'{self.num_channels} channels needs '
                             f'{self.num_channels * channel.expand_ratio}')
        (self.output_related if channel.is_output_channel else self.input_related).append(
            channel)

    @property
    def name(self) -> str:
        """``'<first layer>_(<start>, <end>)_<num_channels>'``, MMRazor's unit key."""
        first = (self.output_related or self.input_related or [None])[0]
        if first is None:
            return f'unit_{self.num_channels}'
        return f'{first.name}_{first.index}_{self.num_channels}'

    def channels_template(self) -> Dict[str, List[Dict]]:
        """``{'input_related': [...], 'output_related': [...]}`` of channel configs."""
        return dict(input_related=[c.config_template() for c in self.input_related],
                    output_related=[c.config_template() for c in self.output_related])

    def extra_repr(self) -> str:
        return f'name={self.name!r}, num_channels={self.num_channels}'

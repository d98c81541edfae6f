"""Pruning a model parameter used directly in ``forward`` (a layer scale, a position
embedding, a class token) along the dims that meet a channel unit.

Such a parameter is no layer with a dynamic op: a ``torch.nn.utils.parametrize``
parametrization on its owner module keeps, along each pruned dim, the channels the
units' masks keep. The owner's code reads the sliced tensor unchanged, gradients reach
the full parameter, and :func:`remove_channel_parametrizations` replaces it by a plain,
smaller ``nn.Parameter`` for the static model.
"""
from typing import Dict, Iterator, Tuple

import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from mmrazor.models.mutables.base_mutable import BaseMutable
from mmrazor.models.mutables.mutable_channel.mutable_channel_container import (
    MutableChannelContainer,
)


class ChannelSliceParametrization(nn.Module):
    """Keep the channels chosen by a mask container along each registered dim.

    Args:
        shape (tuple): The full shape of the parameter it slices.
    """

    def __init__(self, shape: Tuple[int, ...]) -> None:
        super().__init__()
        self.shape = tuple(shape)
        # key: the dim as a string (ModuleDict keys); value: the mask of that dim
        self.containers = nn.ModuleDict()

    def container(self, dim: int) -> MutableChannelContainer:
        """The mask container of ``dim`` (created on first use)."""
        if not 0 <= dim < len(self.shape):
            raise ValueError(f'dim {dim} is not a dim of a parameter of shape {self.shape}')
        key = str(dim)
        if key not in self.containers:
            self.containers[key] = MutableChannelContainer(self.shape[dim])
        return self.containers[key]

    def forward(self, param: torch.Tensor) -> torch.Tensor:
        for key, container in self.containers.items():
            mask = container.current_mask
            if not bool(mask.all()):
                kept = mask.nonzero().flatten().to(param.device)
                param = param.index_select(int(key), kept)
        return param


def _parametrization(owner: nn.Module, param_name: str) -> ChannelSliceParametrization:
    """The slicing parametrization of ``owner.<param_name>`` (registered on first use)."""
    if parametrize.is_parametrized(owner, param_name):
        for item in owner.parametrizations[param_name]:
            if isinstance(item, ChannelSliceParametrization):
                return item
        raise TypeError(f'{param_name!r} of {type(owner).__name__} already has another '
                        'parametrization; it cannot be pruned as well')
    param = owner._parameters.get(param_name)
    if not isinstance(param, nn.Parameter):
        raise TypeError(f'{type(owner).__name__} has no parameter {param_name!r}; its '
                        f'parameters: {sorted(owner._parameters)}')
    item = ChannelSliceParametrization(tuple(param.shape))
    # unsafe: the sliced parameter is smaller than the original once channels go
    parametrize.register_parametrization(owner, param_name, item, unsafe=True)
    # checkpoints keep the plain name, so they load before and after pruning
    owner._register_state_dict_hook(_PlainNames(param_name))
    owner._register_load_state_dict_pre_hook(_ParametrizedNames(param_name))
    return item


class _PlainNames:
    """State-dict hook: ``parametrizations.<name>.original`` is saved as ``<name>``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, module: nn.Module, state: Dict, prefix: str, local_metadata: Dict
                 ) -> None:
        key = f'{prefix}parametrizations.{self.name}.original'
        if key in state:
            state[prefix + self.name] = state.pop(key)


class _ParametrizedNames:
    """Load hook: ``<name>`` loads into ``parametrizations.<name>.original``."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, state: Dict, prefix: str, *args) -> None:
        key = f'{prefix}parametrizations.{self.name}.original'
        if prefix + self.name in state and key not in state:
            state[key] = state.pop(prefix + self.name)


def register_param_channels(owner: nn.Module, param_name: str, dim: int,
                            mutable: BaseMutable, start: int, end: int) -> None:
    """Let ``mutable`` decide channels ``[start, end)`` of ``owner.<param_name>``
    along ``dim``.

    Args:
        owner (nn.Module): The module holding the parameter.
        param_name (str): The parameter's attribute name on ``owner``.
        dim (int): The parameter's dim that meets the unit's channels.
        mutable (BaseMutable): The unit's mutable channel (or a derived one).
        start (int): First channel of the range.
        end (int): One past the last channel.
    """
    _parametrization(owner, param_name).container(dim).register_mutable(mutable, start, end)


def param_container(owner: nn.Module, param_name: str, dim: int
                    ) -> MutableChannelContainer:
    """The container deciding ``owner.<param_name>`` along ``dim``."""
    return _parametrization(owner, param_name).container(dim)


def _sliced(model: nn.Module) -> Iterator[Tuple[nn.Module, str]]:
    for module in list(model.modules()):
        plists = getattr(module, 'parametrizations', None)
        if not isinstance(plists, nn.ModuleDict):
            continue
        for name, plist in list(plists.items()):
            if any(isinstance(item, ChannelSliceParametrization) for item in plist):
                yield module, name


def _own_class(owner: nn.Module) -> None:
    """Give ``owner`` a class of its own: removing a parametrization deletes its
    property from the module's class, which a deep copy (the exported model) shares
    with the original."""
    cls = type(owner)
    namespace = {k: v for k, v in vars(cls).items() if k not in ('__dict__', '__weakref__')}
    owner.__class__ = type(cls.__name__, cls.__bases__, namespace)


def remove_channel_parametrizations(model: nn.Module) -> None:
    """Replace, in place, every sliced parameter of ``model`` by a plain
    ``nn.Parameter`` holding only the kept channels (and drop the checkpoint hooks).

    Raises:
        RuntimeError: if a mask deciding a parameter is not fixed.
    """
    for owner, name in list(_sliced(model)):
        items = [item for item in owner.parametrizations[name]
                 if isinstance(item, ChannelSliceParametrization)]
        unfixed = [key for item in items for key, c in item.containers.items()
                   if not c.is_fixed]
        if unfixed:
            raise RuntimeError(f'{type(owner).__name__}.{name}: the channels of dims '
                               f'{unfixed} are not fixed; fix the mutables first')
        _own_class(owner)
        parametrize.remove_parametrizations(owner, name, leave_parametrized=True)
        for hooks in (owner._state_dict_hooks, owner._load_state_dict_pre_hooks):
            for key, hook in list(hooks.items()):
                hook = getattr(hook, 'hook', hook)  # load hooks come wrapped
                if isinstance(hook, (_PlainNames, _ParametrizedNames)) and \
                        hook.name == name:
                    del hooks[key]


__all__ = ['ChannelSliceParametrization', 'register_param_channels', 'param_container',
           'remove_channel_parametrizations']

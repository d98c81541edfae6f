"""The protocol of dynamic ops: layers whose width (or other attributes) follow
mutables, and that turn back into plain torch layers once the mutables are fixed."""
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Dict, Optional, Set, Tuple, Type

import torch
import torch.nn as nn

from mmrazor.utils.lookup import closest_names


class DynamicMixin(ABC):
    """Adds mutable attributes to a torch layer.

    A dynamic op keeps its full weights and computes each forward with the part the
    mutables choose. ``accepted_mutable_attrs`` names the attributes that may be
    mutable; ``attr_mappings`` maps generic names (``in_channels``) onto the op's own
    (``in_features``). Subclasses build ``self.mutable_attrs = nn.ModuleDict()`` in
    ``__init__`` and implement ``convert_from``, ``static_op_factory`` and
    ``to_static_op``.
    """

    accepted_mutable_attrs: ClassVar[Set[str]] = set()
    attr_mappings: ClassVar[Dict[str, str]] = {}
    mutable_attrs: nn.ModuleDict

    def _map_attr(self, attr: str) -> str:
        name = self.attr_mappings.get(attr, attr)
        if name not in self.accepted_mutable_attrs:
            valid = sorted(set(self.accepted_mutable_attrs) | set(self.attr_mappings))
            close = closest_names(attr, valid)
            raise ValueError(f'{type(self).__name__} has no mutable attribute {attr!r}'
                             f'{"; closest: " + ", ".join(close) if close else ""}; '
                             f'valid: {", ".join(valid)}')
        return name

    def register_mutable_attr(self, attr: str, mutable: nn.Module) -> None:
        """Let ``mutable`` decide the attribute ``attr`` (generic or own name)."""
        name = self._map_attr(attr)
        self._check_mutable_attr(name, mutable)
        self.mutable_attrs[name] = mutable

    def get_mutable_attr(self, attr: str) -> Optional[nn.Module]:
        """The mutable registered for ``attr``, or None."""
        name = self._map_attr(attr)
        return self.mutable_attrs[name] if name in self.mutable_attrs else None

    def _check_mutable_attr(self, name: str, mutable: nn.Module) -> None:
        """Raise if ``mutable`` cannot decide ``name``; subclasses check sizes."""
        from mmrazor.models.mutables import BaseMutable
        if not isinstance(mutable, BaseMutable):
            raise TypeError(f'a mutable attribute must be a BaseMutable, got '
                            f'{type(mutable).__name__}')

    def check_if_mutables_fixed(self) -> None:
        """Raise naming every mutable attribute that is not fixed yet."""
        unfixed = [name for name, mutable in self.mutable_attrs.items() if not mutable.is_fixed]
        if unfixed:
            raise RuntimeError(f'{type(self).__name__}.to_static_op needs fixed mutables; '
                               f'not fixed: {", ".join(unfixed)}')

    @classmethod
    def is_convertible(cls, module: nn.Module) -> bool:
        """Whether ``convert_from(module)`` can keep the module's behaviour."""
        return True

    @classmethod
    @abstractmethod
    def convert_from(cls, module: nn.Module) -> nn.Module:
        """A dynamic op that shares the parameters and buffers of ``module``."""

    @property
    @abstractmethod
    def static_op_factory(self) -> Type[nn.Module]:
        """The torch class ``to_static_op`` returns."""

    @abstractmethod
    def to_static_op(self) -> nn.Module:
        """The plain layer computing what this op computes at its fixed choice."""

    @abstractmethod
    def active_parameters(self) -> Dict[str, torch.Tensor]:
        """The parameter slices the forward uses now (for FLOPs/params counting)."""


def share_state(src: nn.Module, dst: nn.Module) -> None:
    """Make ``dst`` use the parameters and buffers of ``src`` (no copies), and its mode.

    Sharing keeps optimizers built on ``src`` working and the state dict keys intact.
    """
    for name, param in src.named_parameters(recurse=False):
        setattr(dst, name, param)
    for name, buffer in src.named_buffers(recurse=False):
        setattr(dst, name, buffer)
    dst.train(src.training)


class DynamicChannelMixin(DynamicMixin):
    """A dynamic op whose input and output channels follow channel mutables.

    The channel mutables are ``MutableChannelContainer``s (``mutable_in_channels``,
    ``mutable_out_channels``); no container means all channels are kept.
    """

    @property
    @abstractmethod
    def channel_sizes(self) -> Tuple[int, int]:
        """Full (input, output) channel counts."""

    @property
    def mutable_in_channels(self) -> Optional[nn.Module]:
        """The mutable of the input channels, or None."""
        return self.get_mutable_attr('in_channels')

    @property
    def mutable_out_channels(self) -> Optional[nn.Module]:
        """The mutable of the output channels, or None."""
        return self.get_mutable_attr('out_channels')

    def _check_mutable_attr(self, name: str, mutable: nn.Module) -> None:
        super()._check_mutable_attr(name, mutable)
        sizes = self._channel_attr_sizes()
        if name not in sizes:  # e.g. a NAS op's kernel_size
            return
        size = sizes[name]
        width = mutable.current_mask.numel()
        if width != size:
            raise ValueError(f'{type(self).__name__}.{name} has {size} channels; a '
                             f'mutable of {width} channels cannot decide them')

    def _channel_attr_sizes(self) -> Dict[str, int]:
        in_size, out_size = self.channel_sizes
        return {self.attr_mappings.get('in_channels', 'in_channels'): in_size,
                self.attr_mappings.get('out_channels', 'out_channels'): out_size}

    def _mask(self, attr: str, device: torch.device) -> Optional[torch.Tensor]:
        """The mask of ``attr`` on ``device``, or None when all channels are kept."""
        mutable = self.get_mutable_attr(attr)
        if mutable is None:
            return None
        mask = mutable.current_mask.to(device)
        return None if bool(mask.all()) else mask

    def in_mask(self) -> Optional[torch.Tensor]:
        """Mask of the kept input channels (None: all)."""
        return self._mask('in_channels', self._device())

    def out_mask(self) -> Optional[torch.Tensor]:
        """Mask of the kept output channels (None: all)."""
        return self._mask('out_channels', self._device())

    def _device(self) -> torch.device:
        for tensor in list(self.parameters(recurse=False)) + list(self.buffers(recurse=False)):
            return tensor.device
        return torch.device('cpu')


def sliced(tensor: Optional[torch.Tensor], mask: Optional[torch.Tensor]) -> Any:
    """``tensor[mask]`` along dim 0; the tensor itself for no tensor or no mask."""
    if tensor is None or mask is None:
        return tensor
    return tensor[mask]


def grouped_conv_weight(weight: torch.Tensor, in_mask: Optional[torch.Tensor],
                        out_mask: Optional[torch.Tensor],
                        groups: int) -> Tuple[torch.Tensor, int]:
    """The weight and group count of a grouped conv keeping only some channels.

    Output channel ``j`` of a conv with ``g`` groups reads the input channels of its
    group. The kept channels form a grouped conv again when every group keeps either
    no channel or the same numbers of input and output channels as the other kept
    groups; each output channel then keeps the weights of its group's kept inputs.

    Raises:
        ValueError: naming the groups, for masks that do not form a grouped conv.
    """
    if groups == 1:  # no copy for a full width: indexing costs a gather and a scatter
        weight = sliced(weight, out_mask)
        return (weight if in_mask is None else weight[:, in_mask]), 1
    if in_mask is None and out_mask is None:
        return weight, groups
    out_channels, in_per_group = weight.shape[:2]
    in_channels = in_per_group * groups
    device = weight.device
    in_mask = torch.ones(in_channels, dtype=torch.bool, device=device) \
        if in_mask is None else in_mask
    out_mask = torch.ones(out_channels, dtype=torch.bool, device=device) \
        if out_mask is None else out_mask
    in_groups = in_mask.view(groups, in_per_group)
    out_groups = out_mask.view(groups, out_channels // groups)
    n_in, n_out = in_groups.sum(1), out_groups.sum(1)
    kept = n_out > 0
    broken = ((n_in > 0) != kept).nonzero().flatten().tolist()
    if broken:
        raise ValueError(f'a conv with groups={groups} must keep input and output channels '
                         'of a group together; groups '
                         f'{broken} keep {n_in[broken].tolist()} input and '
                         f'{n_out[broken].tolist()} output channels')
    if not bool(kept.any()):
        raise ValueError('the masks keep no channel of the grouped conv')
    if len(set(n_in[kept].tolist())) > 1 or len(set(n_out[kept].tolist())) > 1:
        raise ValueError(f'the kept groups of a conv with groups={groups} must keep equal '
                         f'numbers of channels; input channels per group: '
                         f'{n_in.tolist()}, output channels per group: {n_out.tolist()}')
    k_in = int(n_in[kept][0])
    rows = weight[out_mask]
    row_masks = in_groups[kept].repeat_interleave(n_out[kept], dim=0)
    new_weight = rows[row_masks].view(rows.shape[0], k_in, *rows.shape[2:])
    return new_weight, int(kept.sum())

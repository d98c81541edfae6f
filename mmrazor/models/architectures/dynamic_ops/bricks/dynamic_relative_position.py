"""``DynamicRelativePosition2D``: iRPE tables whose head dims follow a mutable."""
from typing import Dict, Tuple, Type

import torch
import torch.nn as nn

from mmrazor.models.architectures.ops.transformer_series import RelativePosition2D

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state
from .dynamic_composite import add_channel_containers


class DynamicRelativePosition2D(RelativePosition2D, DynamicChannelMixin):
    """A ``RelativePosition2D`` using the kept columns (head dims) of its tables.

    The head dims are channels (``head_dims``, also reachable as ``in_channels`` /
    ``out_channels``): register a channel mutable with
    ``MutableChannelContainer.register_mutable_channel_to_module``. Arguments are
    those of ``RelativePosition2D``.
    """

    accepted_mutable_attrs = {'head_dims'}
    attr_mappings = {'in_channels': 'head_dims', 'out_channels': 'head_dims'}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()
        add_channel_containers(self)

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.head_dims, self.head_dims

    def tables(self) -> Tuple[torch.Tensor, torch.Tensor]:
        mask = self.out_mask()
        if mask is None:
            return self.embeddings_table_v, self.embeddings_table_h
        return self.embeddings_table_v[:, mask], self.embeddings_table_h[:, mask]

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        table_v, table_h = self.tables()
        return {'embeddings_table_v': table_v, 'embeddings_table_h': table_h}

    @classmethod
    def convert_from(cls, module: RelativePosition2D) -> 'DynamicRelativePosition2D':
        new = cls(module.head_dims, module.max_relative_position)
        share_state(module, new)
        return new

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return RelativePosition2D

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        table_v, table_h = self.tables()
        static = RelativePosition2D(table_v.shape[1], self.max_relative_position)
        static = static.to(device=table_v.device, dtype=table_v.dtype)
        with torch.no_grad():
            static.embeddings_table_v.copy_(table_v)
            static.embeddings_table_h.copy_(table_h)
        return static.train(self.training)

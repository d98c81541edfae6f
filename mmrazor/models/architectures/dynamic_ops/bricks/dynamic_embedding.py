"""``DynamicEmbedding``: an ``nn.Embedding`` whose embedding dims follow a mutable."""
from typing import Dict, Tuple, Type

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state


class DynamicEmbedding(nn.Embedding, DynamicChannelMixin):
    """Looks up the kept columns of its table. ``out_channels`` are the embedding dims;
    the token ids are not channels (``in_channels`` is never pruned). Tables that
    renormalize rows in place (``max_norm``) are not convertible."""

    accepted_mutable_attrs = {'num_embeddings', 'embedding_dim'}
    attr_mappings = {'in_channels': 'num_embeddings', 'out_channels': 'embedding_dim'}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.num_embeddings, self.embedding_dim

    @classmethod
    def is_convertible(cls, module: nn.Module) -> bool:
        return module.max_norm is None

    @classmethod
    def convert_from(cls, module: nn.Embedding) -> 'DynamicEmbedding':
        new = cls(module.num_embeddings, module.embedding_dim, module.padding_idx,
                  scale_grad_by_freq=module.scale_grad_by_freq, sparse=module.sparse,
                  device='meta')
        share_state(module, new)
        return new

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.Embedding

    def active_table(self) -> torch.Tensor:
        mask = self.out_mask()
        return self.weight if mask is None else self.weight[:, mask]

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        return {'weight': self.active_table()}

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return F.embedding(input, self.active_table(), self.padding_idx, None, 2.0,
                           self.scale_grad_by_freq, self.sparse)

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        table = self.active_table().detach()
        static = nn.Embedding(table.shape[0], table.shape[1], self.padding_idx,
                              scale_grad_by_freq=self.scale_grad_by_freq, sparse=self.sparse,
                              device=table.device, dtype=table.dtype)
        static.weight.data.copy_(table)
        return static.train(self.training)


__all__ = ['DynamicEmbedding']

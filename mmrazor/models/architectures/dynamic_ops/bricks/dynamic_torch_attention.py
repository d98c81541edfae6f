"""``DynamicTorchMultiheadAttention``: torch's ``nn.MultiheadAttention`` with its
input channels and its head dims following channel mutables (torchvision's ViT).

``in_channels`` are the columns of the packed ``in_proj_weight`` (the residual channels
reaching query, key and value), ``out_channels`` its rows (the same head dims in q, k
and v of every head); ``out_proj`` is a child ``nn.Linear`` that becomes a
``DynamicLinear`` of its own. Computed by the same function as the static op.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmrazor.models.architectures.ops.pruned_attention import (
    PrunedMultiheadAttention,
    multihead_attention,
)

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state, sliced


def linear_params(layer: nn.Linear) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """The (weight, bias) a linear layer computes with now (its kept slice if dynamic)."""
    active = getattr(layer, 'active_linear_params', None)
    return active() if active is not None else (layer.weight, layer.bias)


class DynamicTorchMultiheadAttention(nn.MultiheadAttention, DynamicChannelMixin):
    """An ``nn.MultiheadAttention`` computing with the kept slice of its in-projection.

    Only the packed, plain form is convertible (``kdim == vdim == embed_dim``, no
    ``bias_k``/``bias_v``, no ``add_zero_attn``); the tracer freezes the others.
    """

    accepted_mutable_attrs = {'in_channels', 'out_channels'}
    attr_mappings: Dict[str, str] = {}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.embed_dim, 3 * self.embed_dim

    @classmethod
    def is_convertible(cls, module: nn.Module) -> bool:
        return bool(module._qkv_same_embed_dim) and module.in_proj_weight is not None and \
            module.bias_k is None and not module.add_zero_attn

    @classmethod
    def convert_from(cls, module: nn.MultiheadAttention) -> 'DynamicTorchMultiheadAttention':
        new = cls(module.embed_dim, module.num_heads, dropout=module.dropout,
                  bias=module.in_proj_bias is not None, batch_first=module.batch_first,
                  device='meta')
        share_state(module, new)
        new.out_proj = module.out_proj
        return new

    @property
    def static_op_factory(self):
        return PrunedMultiheadAttention

    @property
    def scale(self) -> float:
        return self.head_dim**-0.5  # the full head dims: pruning changes no scale

    def active_in_proj(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The (weight, bias) of the kept rows and columns of the in-projection."""
        out_mask, in_mask = self.out_mask(), self.in_mask()
        weight = sliced(self.in_proj_weight, out_mask)
        if in_mask is not None:
            weight = weight[:, in_mask]
        return weight, sliced(self.in_proj_bias, out_mask)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        weight, bias = self.active_in_proj()
        return {'in_proj_weight': weight} if bias is None else \
            {'in_proj_weight': weight, 'in_proj_bias': bias}

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: Optional[torch.Tensor] = None, need_weights: bool = True,
                attn_mask: Optional[torch.Tensor] = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        return multihead_attention(
            query, key, value, *self.active_in_proj(), *linear_params(self.out_proj),
            self.num_heads, self.scale, self.dropout, self.training, self.batch_first,
            key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal)

    def to_static_op(self) -> nn.Module:
        """A plain ``nn.MultiheadAttention`` if nothing was pruned, else a
        ``PrunedMultiheadAttention`` with the kept weights."""
        self.check_if_mutables_fixed()
        weight, bias = self.active_in_proj()
        out_weight, _ = linear_params(self.out_proj)
        inner = weight.shape[0] // 3
        if weight.shape[1] == inner == out_weight.shape[0] == self.embed_dim:
            static: nn.Module = nn.MultiheadAttention(
                self.embed_dim, self.num_heads, dropout=self.dropout, bias=bias is not None,
                batch_first=self.batch_first)
        else:
            static = PrunedMultiheadAttention(
                weight.shape[1], self.num_heads, inner // self.num_heads,
                out_weight.shape[0], self.scale, bias=bias is not None,
                dropout=self.dropout, batch_first=self.batch_first)
        static = static.to(device=weight.device, dtype=weight.dtype)
        static.in_proj_weight.data.copy_(weight.detach())
        if bias is not None:
            static.in_proj_bias.data.copy_(bias.detach())
        static.out_proj = self.out_proj  # already static: innermost ops convert first
        return static.train(self.training)


__all__ = ['DynamicTorchMultiheadAttention', 'linear_params']

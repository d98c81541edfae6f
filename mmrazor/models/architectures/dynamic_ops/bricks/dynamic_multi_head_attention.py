"""``DynamicMultiheadAttention``: Autoformer's attention with a searchable number of
heads, embedding dims and q/k/v dims."""
from typing import Any, Dict, Tuple, Type

import torch
import torch.nn as nn

from mmrazor.models.architectures.ops.transformer_series import MultiheadAttention

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state
from .dynamic_composite import add_channel_containers, static_of
from .dynamic_linear import DynamicLinear
from .dynamic_relative_position import DynamicRelativePosition2D

QKV = ('w_qs', 'w_ks', 'w_vs')


class DynamicMultiheadAttention(MultiheadAttention, DynamicChannelMixin):
    """A ``MultiheadAttention`` whose layers are ``DynamicLinear``s (and
    ``DynamicRelativePosition2D``s) and whose head count follows a mutable value.

    Mutable attributes: ``num_heads`` (a value mutable), ``embed_dims`` (a channel
    mutable; alias ``in_channels``: the q/k/v inputs and the projection's outputs)
    and ``q_embed_dims`` (a channel mutable, usually ``num_heads * head dims``;
    alias ``out_channels``: the q/k/v outputs and the projection's inputs). A
    channel mutable registered here is registered into the layers' channel
    containers; the head dims of the relative position tables are registered on
    ``rel_pos_embed_k`` / ``rel_pos_embed_v`` themselves. Arguments are those of
    ``MultiheadAttention``.
    """

    accepted_mutable_attrs = {'num_heads', 'embed_dims', 'q_embed_dims'}
    attr_mappings = {'in_channels': 'embed_dims', 'out_channels': 'q_embed_dims'}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()
        for name in QKV + ('proj', ):
            setattr(self, name, add_channel_containers(
                DynamicLinear.convert_from(getattr(self, name))))
        if self.relative_position:
            self.rel_pos_embed_k = DynamicRelativePosition2D.convert_from(
                self.rel_pos_embed_k)
            self.rel_pos_embed_v = DynamicRelativePosition2D.convert_from(
                self.rel_pos_embed_v)

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.input_dims, self.q_embed_dims

    def register_mutable_attr(self, attr: str, mutable: nn.Module) -> None:
        """Let ``mutable`` decide ``attr``; channel mutables also decide the layers."""
        super().register_mutable_attr(attr, mutable)
        from mmrazor.models.mutables import MutableChannelContainer
        name = self._map_attr(attr)
        if name == 'num_heads':
            return
        # embed_dims: q/k/v inputs and projection outputs; q_embed_dims: the reverse
        qkv_output = name == 'q_embed_dims'
        for layer in QKV:
            MutableChannelContainer.register_mutable_channel_to_module(
                getattr(self, layer), mutable, is_to_output_channel=qkv_output)
        MutableChannelContainer.register_mutable_channel_to_module(
            self.proj, mutable, is_to_output_channel=not qkv_output)

    def _check_mutable_attr(self, name: str, mutable: nn.Module) -> None:
        super()._check_mutable_attr(name, mutable)
        if name == 'num_heads':
            bad = [h for h in mutable.choices if not isinstance(h, int) or
                   not 0 < h <= self.num_heads]
            if bad:
                raise ValueError(f'DynamicMultiheadAttention has {self.num_heads} heads; '
                                 f'num_heads choices must be ints in [1, {self.num_heads}], '
                                 f'got {bad}')

    @property
    def current_num_heads(self) -> int:
        """The number of heads the forward uses now."""
        mutable = self.mutable_attrs['num_heads'] if 'num_heads' in self.mutable_attrs \
            else None
        return self.num_heads if mutable is None else int(mutable.current_choice)

    def _current_head_dims(self) -> int:
        layer = self.w_qs
        mask = layer.out_mask() if isinstance(layer, DynamicLinear) else None
        q_dims = layer.out_features if mask is None else int(mask.sum())
        num_heads = self.current_num_heads
        if q_dims % num_heads:
            raise ValueError(f'DynamicMultiheadAttention: {q_dims} q/k/v dims cannot be '
                             f'split into {num_heads} heads')
        return q_dims // num_heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._current_head_dims()  # a clear error for dims that do not split into heads
        return self.attend(x, self.current_num_heads)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        # the layers hold the weights and count themselves
        return {}

    @classmethod
    def convert_from(cls, module: MultiheadAttention) -> 'DynamicMultiheadAttention':
        new = cls(module.embed_dims, module.num_heads, input_dims=module.input_dims,
                  attn_drop_rate=module.attn_drop_rate,
                  proj_drop_rate=module.proj_drop_rate,
                  out_drop_rate=module.out_drop_rate,
                  relative_position=module.relative_position,
                  max_relative_position=module.max_relative_position,
                  qkv_bias=module.qkv_bias, qk_scale=module.scale,
                  proj_bias=module.proj_bias, head_dims=module.head_dims)
        names = QKV + ('proj', ) + (('rel_pos_embed_k', 'rel_pos_embed_v')
                                    if module.relative_position else ())
        for name in names:
            share_state(getattr(module, name), getattr(new, name))
        return new.train(module.training)

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return MultiheadAttention

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        head_dims = self._current_head_dims()
        layers: Dict[str, nn.Module] = {
            name: static_of(getattr(self, name)) for name in QKV + ('proj', )}
        static = MultiheadAttention(
            layers['proj'].out_features, self.current_num_heads,
            input_dims=layers['w_qs'].in_features, attn_drop_rate=self.attn_drop_rate,
            proj_drop_rate=self.proj_drop_rate, out_drop_rate=self.out_drop_rate,
            relative_position=self.relative_position,
            max_relative_position=self.max_relative_position, qkv_bias=self.qkv_bias,
            qk_scale=self.scale, proj_bias=self.proj_bias, head_dims=head_dims)
        if self.relative_position:
            layers['rel_pos_embed_k'] = static_of(self.rel_pos_embed_k)
            layers['rel_pos_embed_v'] = static_of(self.rel_pos_embed_v)
        for name, layer in layers.items():
            setattr(static, name, layer)
        return static.train(self.training)

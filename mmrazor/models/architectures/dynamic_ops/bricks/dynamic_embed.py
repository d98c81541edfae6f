"""``DynamicPatchEmbed``: mmpretrain's ``PatchEmbed`` with searchable embedding dims."""
import contextlib
import warnings
from typing import Any, Dict, Iterator, Tuple, Type

import torch
import torch.nn as nn
from mmpretrain.models.utils import PatchEmbed

from mmrazor.registry import MODELS

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state
from .dynamic_composite import add_channel_containers, static_of
from .dynamic_conv import DynamicConv2d
from .dynamic_norm import DynamicLayerNorm


@contextlib.contextmanager
def no_patch_embed_warning() -> Iterator[None]:
    """Silence mmpretrain's deprecation warning of ``PatchEmbed``: MMRazor's Autoformer
    (and its checkpoints) use that class."""
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', message='The `PatchEmbed` in mmpretrain')
        yield


def _conv_cfg(conv: nn.Conv2d) -> Dict[str, Any]:
    return dict(type='Conv2d', kernel_size=conv.kernel_size, stride=conv.stride,
                padding=conv.padding, dilation=conv.dilation)


@MODELS.register_module()
class DynamicPatchEmbed(PatchEmbed, DynamicChannelMixin):
    """A ``PatchEmbed`` whose embedding dims (the projection's output channels and
    the norm's features) follow a channel mutable.

    Register it with ``register_mutable_attr('embed_dims', mutable)`` (also reachable
    as ``in_channels`` / ``out_channels``, as in MMRazor). Arguments are those of
    mmpretrain's ``PatchEmbed``; a norm must be a ``LayerNorm``.
    """

    accepted_mutable_attrs = {'embed_dims'}
    attr_mappings = {'in_channels': 'embed_dims', 'out_channels': 'embed_dims'}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with no_patch_embed_warning():
            super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()
        self.projection = add_channel_containers(DynamicConv2d.convert_from(self.projection))
        if self.norm is not None:
            if not DynamicLayerNorm.is_convertible(self.norm):
                raise TypeError(f'DynamicPatchEmbed needs a LayerNorm over the embedding '
                                f'dims as its norm, got {type(self.norm).__name__}')
            self.norm = add_channel_containers(DynamicLayerNorm.convert_from(self.norm))

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.embed_dims, self.embed_dims

    def register_mutable_attr(self, attr: str, mutable: nn.Module) -> None:
        """Let ``mutable`` decide the embedding dims of the projection (and norm)."""
        super().register_mutable_attr(attr, mutable)
        from mmrazor.models.mutables import MutableChannelContainer
        MutableChannelContainer.register_mutable_channel_to_module(self.projection, mutable)
        if self.norm is not None:
            MutableChannelContainer.register_mutable_channel_to_module(self.norm, mutable)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != tuple(self.img_size):
            raise ValueError(f'{type(self).__name__} was built for {tuple(self.img_size)} '
                             f'images, got {tuple(x.shape[-2:])}')
        x = self.projection(x).flatten(2).transpose(1, 2)
        return x if self.norm is None else self.norm(x)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        # the projection and norm hold the weights and count themselves
        return {}

    @classmethod
    def convert_from(cls, module: PatchEmbed) -> 'DynamicPatchEmbed':
        projection = module.projection
        new = cls(img_size=module.img_size, in_channels=projection.in_channels,
                  embed_dims=module.embed_dims, conv_cfg=_conv_cfg(projection))
        share_state(projection, new.projection)
        if module.norm is not None:
            new.norm = add_channel_containers(DynamicLayerNorm.convert_from(module.norm))
        return new.train(module.training)

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return PatchEmbed

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        projection = static_of(self.projection)
        with no_patch_embed_warning():
            static = PatchEmbed(img_size=self.img_size, in_channels=projection.in_channels,
                                embed_dims=projection.out_channels,
                                conv_cfg=_conv_cfg(projection))
        static.projection = projection
        static.norm = None if self.norm is None else static_of(self.norm)
        return static.train(self.training)

"""``DynamicLayerNorm2d``: a channels-first layer norm (ConvNeXt's ``LayerNorm2d``)
narrowed to the kept channels.

torchvision and mmpretrain each define a ``LayerNorm2d``: an ``nn.LayerNorm`` over the
channels of an ``(N, C, H, W)`` map (permute, normalize the last dim, permute back).
"""
from typing import List, Type

import torch
import torch.nn as nn

from .bricks.dynamic_norm import DynamicLayerNorm
from .mixins.dynamic_mixins import share_state


def _channels_first_layer_norms() -> List[Type[nn.LayerNorm]]:
    types: List[Type[nn.LayerNorm]] = []
    try:
        from torchvision.models.convnext import LayerNorm2d as TorchvisionLayerNorm2d
        types.append(TorchvisionLayerNorm2d)
    except ImportError:  # torchvision is optional
        pass
    try:
        from mmpretrain.models.utils.norm import LayerNorm2d as MMPretrainLayerNorm2d
        types.append(MMPretrainLayerNorm2d)
    except ImportError:  # mmpretrain is optional
        pass
    return types


#: The exact classes that normalize dim 1 of a 4-D map (the tracer relies on it).
CHANNELS_FIRST_LAYER_NORMS = tuple(_channels_first_layer_norms())


class DynamicLayerNorm2d(DynamicLayerNorm):
    """A channels-first ``LayerNorm2d`` narrowed to the kept channels; converts back
    to the class it came from."""

    static_type: Type[nn.LayerNorm] = nn.LayerNorm

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return self.static_type

    @classmethod
    def is_convertible(cls, module: nn.Module) -> bool:
        return type(module) in CHANNELS_FIRST_LAYER_NORMS and \
            len(module.normalized_shape) == 1

    @classmethod
    def convert_from(cls, module: nn.LayerNorm) -> 'DynamicLayerNorm2d':
        if not cls.is_convertible(module):
            valid = [f'{t.__module__}.{t.__name__}' for t in CHANNELS_FIRST_LAYER_NORMS]
            raise ValueError(f'{type(module).__name__} is not a channels-first layer norm '
                             f'over one dim; valid: {valid}')
        new = cls(module.normalized_shape, eps=module.eps,
                  elementwise_affine=module.elementwise_affine,
                  bias=getattr(module, 'bias', None) is not None, device='meta')
        share_state(module, new)
        new.static_type = type(module)
        return new

    def forward(self, x: torch.Tensor, data_format: str = 'channel_first') -> torch.Tensor:
        if data_format == 'channel_last':  # mmpretrain's option: a plain layer norm
            return super().forward(x)
        out = super().forward(x.permute(0, 2, 3, 1))
        return out.permute(0, 3, 1, 2).contiguous()

    def to_static_op(self) -> nn.Module:
        plain = super().to_static_op()
        static = self.static_type(plain.normalized_shape[0], eps=self.eps,
                                  elementwise_affine=self.elementwise_affine,
                                  bias=plain.bias is not None).to(self._device())
        static.load_state_dict(plain.state_dict())
        return static.train(self.training)


__all__ = ['DynamicLayerNorm2d', 'CHANNELS_FIRST_LAYER_NORMS']

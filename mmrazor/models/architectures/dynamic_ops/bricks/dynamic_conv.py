"""Dynamic 2d convolutions: ``DynamicConv2d`` and mmcv's adaptive-padding variant."""
import math
from typing import Dict, Optional, Tuple, Type

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import Conv2dAdaptivePadding
from torch.nn.modules.utils import _pair

from mmrazor.registry import MODELS

from ..mixins.dynamic_mixins import (
                                     DynamicChannelMixin,
                                     grouped_conv_weight,
                                     share_state,
                                     sliced,
)


class DynamicConvMixin(DynamicChannelMixin):
    """Input/output channels of a conv, grouped and depthwise convs included."""

    accepted_mutable_attrs = {'in_channels', 'out_channels'}

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.in_channels, self.out_channels

    def active_conv_params(self) -> Tuple[torch.Tensor, Optional[torch.Tensor], int]:
        """The (weight, bias, groups) of the channels kept now."""
        out_mask = self.out_mask()
        weight, groups = grouped_conv_weight(self.weight, self.in_mask(), out_mask,
                                             self.groups)
        return weight, sliced(self.bias, out_mask), groups

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        weight, bias, _ = self.active_conv_params()
        return {'weight': weight} if bias is None else {'weight': weight, 'bias': bias}

    def _conv(self, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
              groups: int) -> torch.Tensor:
        if self.padding_mode != 'zeros':
            x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return F.conv2d(x, weight, bias, self.stride, _pair(0), self.dilation, groups)
        return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv(x, *self.active_conv_params())

    @classmethod
    def convert_from(cls, module: nn.Conv2d) -> 'DynamicConvMixin':
        new = cls(module.in_channels, module.out_channels, module.kernel_size,
                  stride=module.stride, padding=module.padding, dilation=module.dilation,
                  groups=module.groups, bias=module.bias is not None,
                  padding_mode=module.padding_mode, device='meta')
        share_state(module, new)
        return new

    def _static_kwargs(self, weight: torch.Tensor, bias: Optional[torch.Tensor],
                       groups: int) -> dict:
        return dict(in_channels=weight.shape[1] * groups, out_channels=weight.shape[0],
                    kernel_size=self.kernel_size, stride=self.stride,
                    padding=self.padding, dilation=self.dilation, groups=groups,
                    bias=bias is not None, padding_mode=self.padding_mode)

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        weight, bias, groups = self.active_conv_params()
        static = self.static_op_factory(**self._static_kwargs(weight, bias, groups))
        static = static.to(device=weight.device, dtype=weight.dtype)
        static.weight.data.copy_(weight.detach())
        if bias is not None:
            static.bias.data.copy_(bias.detach())
        return static.train(self.training)


@MODELS.register_module()
class DynamicConv2d(nn.Conv2d, DynamicConvMixin):
    """An ``nn.Conv2d`` whose input and output channels follow mutables.

    The forward convolves with the kept slice of the weight (a smaller conv), and
    ``to_static_op`` returns an ``nn.Conv2d`` of that slice.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.Conv2d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return DynamicConvMixin.forward(self, x)


class DynamicConv2dAdaptivePadding(DynamicConv2d):
    """mmcv's ``Conv2dAdaptivePadding`` ('same' padding computed per input), dynamic."""

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return Conv2dAdaptivePadding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias, groups = self.active_conv_params()
        img_h, img_w = x.shape[-2:]
        kernel_h, kernel_w = weight.shape[-2:]
        stride_h, stride_w = self.stride
        pad_h = max((math.ceil(img_h / stride_h) - 1) * stride_h
                    + (kernel_h - 1) * self.dilation[0] + 1 - img_h, 0)
        pad_w = max((math.ceil(img_w / stride_w) - 1) * stride_w
                    + (kernel_w - 1) * self.dilation[1] + 1 - img_w, 0)
        if pad_h > 0 or pad_w > 0:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, weight, bias, self.stride, self.padding, self.dilation, groups)

    def _static_kwargs(self, weight: torch.Tensor, bias: Optional[torch.Tensor],
                       groups: int) -> dict:
        kwargs = super()._static_kwargs(weight, bias, groups)
        kwargs.pop('padding_mode')
        return kwargs

"""The candidate ops of the SPOS ShuffleNetV2 search space (Guo et al., 2020):
ShuffleNetV2 units with a 3x3, 5x5 or 7x7 depthwise kernel, and the Xception-like unit
with three depthwise-separable 3x3 convs.

Module names follow MMRazor 1.x (``branch1.{0,1}``, ``branch2.{i}``), so its supernet
and subnet checkpoints load.
"""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmpretrain.models.utils import channel_shuffle

from mmrazor.registry import MODELS

from .base import BaseOP

SHUFFLE_KERNEL_SIZES = (3, 5, 7)


class ShuffleUnit(BaseOP):
    """A ShuffleNetV2 unit without its right branch, which subclasses build.

    With stride 1 the input is split in two halves: one passes through, the other
    goes through ``branch2``. With a larger stride both branches see the whole input
    (``branch1`` is a strided depthwise conv and a 1x1 conv). The halves are
    concatenated and shuffled.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even: two equal halves).
        stride (int): Stride. Defaults to 1 (then ``in_channels == out_channels``).
        conv_cfg (dict, optional): Conv layer config. Defaults to None (Conv2d).
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        with_cp (bool): Recompute the forward in backward (gradient checkpointing)
            to save memory. Defaults to False.
        branch1_kernel_size (int): Kernel of ``branch1``'s depthwise conv.
            Defaults to 3.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    branch2: nn.Sequential

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),  # noqa: B006
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 with_cp: bool = False,
                 branch1_kernel_size: int = 3,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        if out_channels % 2:
            raise ValueError(f'{type(self).__name__}: out_channels must be even (two '
                             f'branches of out_channels // 2), got {out_channels}')
        if stride == 1 and in_channels != out_channels:
            raise ValueError(f'{type(self).__name__}: with stride 1 the input is split '
                             f'between the branches, so in_channels ({in_channels}) must '
                             f'equal out_channels ({out_channels}); use stride > 1 to '
                             'change the width')
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.with_cp = with_cp
        self.branch_channels = out_channels // 2
        if stride > 1:
            self.branch1 = nn.Sequential(
                self._conv(in_channels, in_channels, branch1_kernel_size, stride,
                           groups=in_channels, act=False),
                self._conv(in_channels, self.branch_channels, 1))

    def _conv(self, in_channels: int, out_channels: int, kernel_size: int,
              stride: int = 1, groups: int = 1, act: bool = True) -> ConvModule:
        return ConvModule(in_channels, out_channels, kernel_size, stride=stride,
                          padding=kernel_size // 2, groups=groups, conv_cfg=self.conv_cfg,
                          norm_cfg=self.norm_cfg, act_cfg=self.act_cfg if act else None)

    @property
    def branch2_in_channels(self) -> int:
        """The right branch sees the whole input when strided, else half of it."""
        return self.in_channels if self.stride > 1 else self.branch_channels

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        else:
            kept, transformed = x.chunk(2, dim=1)
            out = torch.cat((kept, self.branch2(transformed)), dim=1)
        return channel_shuffle(out, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._forward, x, use_reentrant=False)
        return self._forward(x)


@MODELS.register_module()
class ShuffleBlock(ShuffleUnit):
    """ShuffleNetV2 unit whose depthwise convs have ``kernel_size``: the right branch
    is 1x1 conv, depthwise kxk conv (no activation), 1x1 conv.

    Args:
        kernel_size (int): 3, 5 or 7.
        in_channels (int): Input channels.
        out_channels (int): Output channels (even).
        stride (int): Stride. Defaults to 1.
        conv_cfg (dict, optional): Conv layer config. Defaults to None (Conv2d).
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        with_cp (bool): Gradient checkpointing. Defaults to False.
        init_cfg (dict, optional): Weight init config. Defaults to None.

    Examples:
        >>> op = ShuffleBlock(kernel_size=5, in_channels=16, out_channels=32, stride=2)
        >>> op(torch.rand(1, 16, 8, 8)).shape
        torch.Size([1, 32, 4, 4])
    """

    def __init__(self, kernel_size: int, in_channels: int, out_channels: int,
                 stride: int = 1, **kwargs) -> None:
        if kernel_size not in SHUFFLE_KERNEL_SIZES:
            raise ValueError(f'ShuffleBlock: kernel_size must be one of '
                             f'{SHUFFLE_KERNEL_SIZES}, got {kernel_size!r}')
        super().__init__(in_channels, out_channels, stride,
                         branch1_kernel_size=kernel_size, **kwargs)
        self.kernel_size = kernel_size
        mid = self.branch_channels
        self.branch2 = nn.Sequential(
            self._conv(self.branch2_in_channels, mid, 1),
            self._conv(mid, mid, kernel_size, stride, groups=mid, act=False),
            self._conv(mid, mid, 1))

@MODELS.register_module()
class ShuffleXception(ShuffleUnit):
    """ShuffleNetV2 unit whose right branch is three depthwise-separable 3x3 convs
    (the first one strided), as in Xception.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even).
        stride (int): Stride. Defaults to 1.
        conv_cfg (dict, optional): Conv layer config. Defaults to None (Conv2d).
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        with_cp (bool): Gradient checkpointing. Defaults to False.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 **kwargs) -> None:
        super().__init__(in_channels, out_channels, stride, **kwargs)
        mid = self.mid_channels = self.branch_channels
        self.branch2 = nn.Sequential(
            self._separable(self.branch2_in_channels, mid, stride),
            self._separable(mid, mid),
            self._separable(mid, mid))

    def _separable(self, in_channels: int, out_channels: int,
                   stride: int = 1) -> DepthwiseSeparableConvModule:
        # no activation between the depthwise and the pointwise conv
        return DepthwiseSeparableConvModule(
            in_channels, out_channels, 3, stride=stride, padding=1,
            conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, dw_act_cfg=None,
            act_cfg=self.act_cfg)

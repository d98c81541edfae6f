"""The candidate ops of the DARTS search space (Liu et al., ICLR 2019): pooling,
separable and dilated convolutions, skip connections and the zero op.

Module names follow MMRazor 1.x (``conv1``, ``conv2``, ``pool``, ``bn``), so its
DARTS supernet and subnet checkpoints load.
"""
from typing import Dict

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath

from mmrazor.registry import MODELS

from .base import BaseOP

DARTS_KERNEL_SIZES = (3, 5)
DARTS_STRIDES = (1, 2)
POOL_TYPES = ('max', 'avg')


class DartsOP(BaseOP):
    """A DARTS candidate: the output goes through ``DropPath`` (drop probability
    0.1, as MMRazor's) when ``use_drop_path``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): 1 or 2. Defaults to 1.
        use_drop_path (bool): Randomly zero whole samples of the output while
            training. Defaults to False.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 use_drop_path: bool = False,
                 norm_cfg: Dict = dict(type='BN'),  # noqa: B006
                 init_cfg=None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        if stride not in DARTS_STRIDES:
            raise ValueError(f'{type(self).__name__}: stride must be one of '
                             f'{DARTS_STRIDES}, got {stride!r}')
        self.norm_cfg = norm_cfg
        self.drop_path = DropPath() if use_drop_path else None

    def _norm(self, channels: int) -> nn.Module:
        return build_norm_layer(self.norm_cfg, channels)[1]

    def _drop(self, out: torch.Tensor) -> torch.Tensor:
        return out if self.drop_path is None else self.drop_path(out)


def _check_kernel_size(op: str, kernel_size: int) -> None:
    if kernel_size not in DARTS_KERNEL_SIZES:
        raise ValueError(f'{op}: kernel_size must be one of {DARTS_KERNEL_SIZES}, got '
                         f'{kernel_size!r}')


@MODELS.register_module()
class DartsPoolBN(DartsOP):
    """3x3 max or average pooling (padding 1) followed by a norm layer.

    Args:
        pool_type (str): 'max' or 'avg' (padding not counted in the average).
        kernel_size (int): Pooling window. Defaults to 3.
        **kwargs: :class:`DartsOP` arguments (channels, stride, use_drop_path,
            norm_cfg).
    """

    def __init__(self, pool_type: str, kernel_size: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        if pool_type not in POOL_TYPES:
            raise ValueError(f'DartsPoolBN: pool_type must be one of {POOL_TYPES}, got '
                             f'{pool_type!r}')
        self.kernel_size = kernel_size
        self.pool: nn.Module
        if pool_type == 'max':
            self.pool = nn.MaxPool2d(kernel_size, self.stride, 1)
        else:
            self.pool = nn.AvgPool2d(kernel_size, self.stride, 1, count_include_pad=False)
        self.bn = self._norm(self.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._drop(self.bn(self.pool(x)))


@MODELS.register_module()
class DartsDilConv(DartsOP):
    """ReLU, depthwise kxk conv with dilation 2, pointwise conv and norm.

    Args:
        kernel_size (int): 3 or 5.
        **kwargs: :class:`DartsOP` arguments.
    """

    def __init__(self, kernel_size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        _check_kernel_size('DartsDilConv', kernel_size)
        self.kernel_size = kernel_size
        self.dilation = 2
        channels = self.in_channels
        self.conv1 = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size, self.stride,
                      (kernel_size // 2) * self.dilation, dilation=self.dilation,
                      groups=channels, bias=False),
            nn.Conv2d(channels, self.out_channels, 1, bias=False),
            self._norm(self.out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._drop(self.conv1(x))


@MODELS.register_module()
class DartsSepConv(DartsOP):
    """Two stacked (ReLU, depthwise kxk conv, pointwise conv, norm) blocks; the
    first carries the stride.

    Args:
        kernel_size (int): 3 or 5.
        **kwargs: :class:`DartsOP` arguments.
    """

    def __init__(self, kernel_size: int, **kwargs) -> None:
        super().__init__(**kwargs)
        _check_kernel_size('DartsSepConv', kernel_size)
        self.kernel_size = kernel_size
        self.conv1 = self._separable(self.in_channels, self.in_channels, self.stride)
        self.conv2 = self._separable(self.in_channels, self.out_channels, 1)

    def _separable(self, in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
        return nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(in_channels, in_channels, self.kernel_size, stride,
                      self.kernel_size // 2, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            self._norm(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._drop(self.conv2(self.conv1(x)))


@MODELS.register_module()
class DartsSkipConnect(DartsOP):
    """The identity at stride 1; at stride 2 a factorized reduce: ReLU, two 1x1
    convs with stride 2 (the second shifted by one pixel), concatenated, then norm.

    Args:
        **kwargs: :class:`DartsOP` arguments.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self.stride == 1 and self.in_channels != self.out_channels:
            raise ValueError(f'DartsSkipConnect: the identity (stride 1) keeps the '
                             f'channels, got {self.in_channels} -> {self.out_channels}')
        if self.stride > 1:
            if self.out_channels % 2:
                raise ValueError('DartsSkipConnect: a factorized reduce (stride 2) needs '
                                 f'even out_channels, got {self.out_channels}')
            self.relu = nn.ReLU()
            half = self.out_channels // 2
            self.conv1 = nn.Conv2d(self.in_channels, half, 1, stride=2, bias=False)
            self.conv2 = nn.Conv2d(self.in_channels, half, 1, stride=2, bias=False)
            self.bn = self._norm(self.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x
        x = self.relu(x)
        out = torch.cat([self.conv1(x), self.conv2(x[:, :, 1:, 1:])], dim=1)
        return self._drop(self.bn(out))


@MODELS.register_module()
class DartsZero(DartsOP):
    """The zero op (no connection): zeros shaped like the strided input.

    Args:
        **kwargs: :class:`DartsOP` arguments.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.)
        return x[:, :, ::self.stride, ::self.stride].mul(0.)

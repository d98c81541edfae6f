"""MobileNet candidate blocks: ``MBBlock`` (inverted residual with optional
squeeze-excitation), its ``SELayer`` and AttentiveNAS's ``ShortcutLayer``."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks import DropPath
from mmpretrain.models.utils import make_divisible

from mmrazor.registry import MODELS

from .base import BaseOP


class SELayer(nn.Module):
    """Squeeze-excitation: ``x * gate(x)``, the gate a 1x1 conv pair on pooled ``x``.

    Args:
        channels (int): Channels of ``x``.
        squeeze_channels (int): Channels between the two convs.
        conv_cfg (dict, optional): Conv config. Defaults to None (Conv2d).
        act_cfg (tuple[dict]): Activations after the two convs. Defaults to
            ``(dict(type='ReLU'), dict(type='HSigmoid'))``.
    """

    def __init__(self, channels: int, squeeze_channels: int, conv_cfg: Optional[Dict] = None,
                 act_cfg: Tuple[Dict, Dict] = (dict(type='ReLU'),
                                               dict(type='HSigmoid'))) -> None:
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.conv1 = ConvModule(channels, squeeze_channels, 1, conv_cfg=conv_cfg,
                                act_cfg=act_cfg[0])
        self.conv2 = ConvModule(squeeze_channels, channels, 1, conv_cfg=conv_cfg,
                                act_cfg=act_cfg[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.conv2(self.conv1(self.global_avgpool(x)))


class ShortcutLayer(nn.Module):
    """AttentiveNAS's shortcut of a block whose input and output differ: average
    pooling for a stride, then a 1x1 conv to the output channels.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        reduction (int): The block's stride. Defaults to 1.
        conv_cfg (dict, optional): Conv config. Defaults to None (Conv2d).
    """

    def __init__(self, in_channels: int, out_channels: int, reduction: int = 1,
                 conv_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        self.reduction = reduction
        self.pool = nn.AvgPool2d(reduction, reduction, ceil_mode=True,
                                 count_include_pad=False) if reduction > 1 else None
        self.conv = ConvModule(in_channels, out_channels, 1, conv_cfg=conv_cfg,
                               act_cfg=None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = self.pool(x)
        return self.conv(x)


@MODELS.register_module()
class MBBlock(BaseOP):
    """MobileNet inverted residual block: 1x1 expansion (skipped for
    ``expand_ratio == 1``), depthwise ``kernel_size`` conv, optional
    squeeze-excitation, linear 1x1 projection, then a shortcut.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the depthwise conv. Defaults to 1.
        kernel_size (int): Kernel of the depthwise conv. Defaults to 3.
        expand_ratio (int): Hidden channels are ``in_channels * expand_ratio``.
            Defaults to 1.
        se_cfg (dict, optional): ``dict(ratio=4, divisor=8, act_cfg=(...))`` adds a
            squeeze-excitation layer of ``make_divisible(hidden / ratio, divisor)``
            channels. Defaults to None.
        conv_cfg (dict, optional): Conv config. Defaults to None (Conv2d).
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        drop_path_rate (float): Stochastic depth of the residual branch.
            Defaults to 0.
        with_res_shortcut (bool, optional): Add the input to the output. Defaults to
            None: when ``stride == 1`` and ``in_channels == out_channels``.
        with_attentive_shortcut (bool): Without a residual shortcut, add a
            ``ShortcutLayer`` of the input instead (AttentiveNAS). Defaults to False.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 kernel_size: int = 3, expand_ratio: int = 1,
                 se_cfg: Optional[Dict] = None, conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),  # noqa: B006
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 drop_path_rate: float = 0., with_res_shortcut: Optional[bool] = None,
                 with_attentive_shortcut: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, out_channels, stride, init_cfg=init_cfg)
        if kernel_size % 2 == 0:
            raise ValueError(f'MBBlock: kernel_size must be odd, got {kernel_size}')
        self.kernel_size = kernel_size
        self.expand_ratio = expand_ratio
        self.mid_channels = in_channels * expand_ratio
        if with_res_shortcut is None:
            with_res_shortcut = stride == 1 and in_channels == out_channels
        self.with_res_shortcut = with_res_shortcut
        self.with_attentive_shortcut = with_attentive_shortcut and not with_res_shortcut
        self.drop_path_rate = drop_path_rate
        conv = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.expand_conv = ConvModule(in_channels, self.mid_channels, 1, act_cfg=act_cfg,
                                      **conv) if expand_ratio != 1 else None
        self.depthwise_conv = ConvModule(self.mid_channels, self.mid_channels, kernel_size,
                                         stride, kernel_size // 2,
                                         groups=self.mid_channels, act_cfg=act_cfg, **conv)
        self.se = None
        if se_cfg is not None:
            se_cfg = dict(se_cfg)
            ratio, divisor = se_cfg.pop('ratio', 4), se_cfg.pop('divisor', 8)
            squeeze = make_divisible(self.mid_channels / ratio, divisor)
            self.se = SELayer(self.mid_channels, squeeze, conv_cfg=conv_cfg, **se_cfg)
        self.linear_conv = ConvModule(self.mid_channels, out_channels, 1, act_cfg=None,
                                      **conv)
        self.shortcut = ShortcutLayer(in_channels, out_channels, stride, conv_cfg) \
            if self.with_attentive_shortcut else None

    @property
    def drop_path_rate(self) -> float:
        """The stochastic-depth rate of the residual branch."""
        return self.drop_path.drop_prob

    @drop_path_rate.setter
    def drop_path_rate(self, rate: float) -> None:
        if not 0 <= rate < 1:
            raise ValueError(f'drop_path_rate must be in [0, 1), got {rate}')
        if 'drop_path' in self._modules:
            self.drop_path.drop_prob = rate
        else:
            self.drop_path = DropPath(rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x if self.expand_conv is None else self.expand_conv(x)
        out = self.depthwise_conv(out)
        if self.se is not None:
            out = self.se(out)
        out = self.linear_conv(out)
        if self.with_res_shortcut:
            return x + self.drop_path(out)
        if self.shortcut is not None:
            return self.shortcut(x) + self.drop_path(out)
        return out

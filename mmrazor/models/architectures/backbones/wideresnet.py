"""Wide Residual Networks for 32x32 inputs (Zagoruyko & Komodakis, BMVC 2016).

https://arxiv.org/abs/1605.07146. A WRN-d-k has three stages of ``(d - 4) / 6``
pre-activation basic blocks with ``16k``, ``32k`` and ``64k`` channels after a 3x3
stem of 16 channels, and a final BN + ReLU: WRN-16-2 has 0.70 M parameters,
WRN-28-4 5.87 M (without the classifier). Module names follow MMRazor 1.x
(``layer{i}.{j}.bn1`` is the BN in front of block j, ``bn1`` the final one), so
OFD's recorders of pre-ReLU features (``backbone.layer2.0.bn1``,
``backbone.bn1``) address the same layers.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.registry import MODELS


class WideBasicBlock(nn.Module):
    """Pre-activation block: BN-ReLU-conv3x3-BN-ReLU-(dropout)-conv3x3 + shortcut.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first conv. Defaults to 1.
        dilation (int): Dilation of the first conv. Defaults to 1.
        droprate (float): Dropout between the two convs. Defaults to 0.
        conv_cfg (dict, optional): Conv layer config. Defaults to None (Conv2d).
        norm_cfg (dict, optional): Norm layer config. Defaults to None
            (``dict(type='BN')``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 droprate: float = 0.,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None) -> None:
        super().__init__()
        norm_cfg = norm_cfg or dict(type='BN')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.droprate = droprate
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = build_conv_layer(conv_cfg, in_channels, out_channels, 3,
                                      stride=stride, padding=dilation,
                                      dilation=dilation, bias=False)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = build_conv_layer(conv_cfg, out_channels, out_channels, 3,
                                      padding=1, bias=False)
        # A 1x1 projection where the shape changes; it reads the activated input.
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = build_conv_layer(conv_cfg, in_channels, out_channels, 1,
                                               stride=stride, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(activated)))
        if self.droprate > 0:
            out = F.dropout(out, p=self.droprate, training=self.training)
        out = self.conv2(out)
        shortcut = x if self.downsample is None else self.downsample(activated)
        return out + shortcut


@MODELS.register_module()
class WideResNet(BaseModule):
    """WideResNet backbone for tiny images (CIFAR), as MMRazor 1.x's.

    Args:
        depth (int): Network depth ``6n + 4`` (10, 16, 22, 28, 40, ...).
        widen_factor (int): Channel multiplier k. Defaults to 4.
        in_channels (int): Input image channels. Defaults to 3.
        stem_channels (int): Output channels of the stem conv. Defaults to 16.
        base_channels (int): Channels of the first stage before widening.
            Defaults to 16.
        expansion (int, optional): Channel multiplier used instead of
            ``widen_factor`` when given. Defaults to None.
        num_stages (int): Number of stages (1-3). Defaults to 3.
        strides (Sequence[int]): Stride of each stage's first block.
            Defaults to ``(1, 2, 2)``.
        dilations (Sequence[int]): Dilation of each stage. Defaults to ``(1, 1, 1)``.
        out_indices (Sequence[int]): Stages whose outputs are returned; the last
            stage's output is taken after the final BN + ReLU. Defaults to the last
            stage, the feature MMRazor's WideResNet returns.
        drop_rate (float): Dropout inside each block. Defaults to 0.
        frozen_stages (int): Stages to freeze (0 = the stem only); -1 freezes
            nothing. Defaults to -1.
        conv_cfg (dict, optional): Conv layer config. Defaults to None.
        norm_cfg (dict, optional): Norm layer config. Defaults to None
            (``dict(type='BN', requires_grad=True)``).
        norm_eval (bool): Keep norm layers in eval mode while training.
            Defaults to False.
        zero_init_residual (bool): Zero-init each block's ``bn2`` so blocks start
            as identities. Defaults to False.
        init_cfg (dict | list[dict], optional): Defaults to None (Kaiming for convs,
            1 for norms).
    """

    def __init__(self,
                 depth: int,
                 widen_factor: int = 4,
                 in_channels: int = 3,
                 stem_channels: int = 16,
                 base_channels: int = 16,
                 expansion: Optional[int] = None,
                 num_stages: int = 3,
                 strides: Sequence[int] = (1, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1),
                 out_indices: Optional[Sequence[int]] = None,
                 drop_rate: float = 0.,
                 frozen_stages: int = -1,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg or [
            dict(type='Kaiming', layer=['Conv2d']),
            dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
        ])
        norm_cfg = norm_cfg or dict(type='BN', requires_grad=True)
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f'WideResNet depth must be 6n + 4 with n >= 1 (10, 16, '
                             f'22, 28, 40, ...), got {depth}')
        if not 1 <= num_stages <= 3:
            raise ValueError(f'num_stages must be 1, 2 or 3, got {num_stages}')
        if len(strides) < num_stages or len(dilations) < num_stages:
            raise ValueError(f'strides {tuple(strides)} and dilations '
                             f'{tuple(dilations)} need one entry per stage '
                             f'({num_stages})')
        out_indices = (num_stages - 1, ) if out_indices is None else tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f'out_indices {out_indices} must be stage indices in '
                             f'[0, {num_stages - 1}]')
        self.depth = depth
        self.widen_factor = widen_factor
        self.expansion = widen_factor if expansion is None else expansion
        self.num_stages = num_stages
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        num_blocks = (depth - 4) // 6

        self.conv1 = build_conv_layer(conv_cfg, in_channels, stem_channels, 3,
                                      padding=1, bias=False)
        self.res_layers: List[str] = []
        channels, out_channels = stem_channels, base_channels * self.expansion
        for i in range(num_stages):
            blocks = [
                WideBasicBlock(channels if j == 0 else out_channels, out_channels,
                               stride=strides[i] if j == 0 else 1,
                               dilation=dilations[i], droprate=drop_rate,
                               conv_cfg=conv_cfg, norm_cfg=norm_cfg)
                for j in range(num_blocks)
            ]
            self.add_module(f'layer{i + 1}', nn.Sequential(*blocks))
            self.res_layers.append(f'layer{i + 1}')
            channels, out_channels = out_channels, out_channels * 2
        self.feat_dim = channels
        self.bn1 = build_norm_layer(norm_cfg, channels)[1]
        self.relu = nn.ReLU(inplace=True)
        self._freeze_stages()

    def _freeze_stages(self) -> None:
        frozen = ([self.conv1] if self.frozen_stages >= 0 else []) + [
            getattr(self, name) for name in self.res_layers[:self.frozen_stages]
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def init_weights(self) -> None:
        super().init_weights()
        pretrained = isinstance(self.init_cfg, dict) and \
            self.init_cfg.get('type') == 'Pretrained'
        if self.zero_init_residual and not pretrained:
            for module in self.modules():
                if isinstance(module, WideBasicBlock):
                    nn.init.constant_(module.bn2.weight, 0)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == self.num_stages - 1:
                x = self.relu(self.bn1(x))
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'WideResNet':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

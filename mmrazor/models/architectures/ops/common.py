"""``Identity``: the "skip this block" candidate of searchable backbones."""
from typing import Any, Dict, Optional

import torch
from mmcv.cnn import ConvModule

from mmrazor.registry import MODELS

from .base import BaseOP


@MODELS.register_module()
class Identity(BaseOP):
    """Pass the input through; where the block changes the stride or the channels
    (so a plain identity cannot stand in for it), a 1x1 conv with a norm does.

    Args:
        conv_cfg (dict, optional): Conv config of the 1x1 conv. Defaults to None
            (Conv2d).
        norm_cfg (dict): Norm config of the 1x1 conv. Defaults to
            ``dict(type='BN')``.
        act_cfg (dict, optional): Activation after the norm. Defaults to None.
        **kwargs: ``BaseOP`` arguments: ``in_channels``, ``out_channels``,
            ``stride``, ``init_cfg``.
    """

    def __init__(self, conv_cfg: Optional[Dict] = None,
                 norm_cfg: Dict = dict(type='BN'),  # noqa: B006
                 act_cfg: Optional[Dict] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.downsample = None
        if self.stride != 1 or self.in_channels != self.out_channels:
            self.downsample = ConvModule(self.in_channels, self.out_channels, 1,
                                         stride=self.stride, conv_cfg=conv_cfg,
                                         norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.downsample is None else self.downsample(x)

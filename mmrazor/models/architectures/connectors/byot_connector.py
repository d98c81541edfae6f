"""``BYOTConnector``: the shallow classifier of Zhang et al., "Be Your Own Teacher:
Improve the Performance of Convolutional Neural Networks via Self Distillation"
(ICCV 2019)."""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


class SepConv(nn.Sequential):
    """Two (depthwise kxk conv, pointwise conv, BN, ReLU) blocks; the first has the
    stride, the second maps to ``out_channel``.

    Args:
        in_channel (int): The input channels.
        out_channel (int): The output channels.
        kernel_size (int): The depthwise kernel size. Defaults to 3.
        stride (int): The stride of the first depthwise conv. Defaults to 2.
    """

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int = 3,
                 stride: int = 2) -> None:
        padding = kernel_size // 2
        super().__init__(
            nn.Conv2d(in_channel, in_channel, kernel_size, stride, padding,
                      groups=in_channel, bias=False),
            nn.Conv2d(in_channel, in_channel, 1, bias=False),
            nn.BatchNorm2d(in_channel),
            nn.ReLU(),
            nn.Conv2d(in_channel, in_channel, kernel_size, 1, padding, groups=in_channel,
                      bias=False),
            nn.Conv2d(in_channel, out_channel, 1, bias=False),
            nn.BatchNorm2d(out_channel),
            nn.ReLU())


@MODELS.register_module()
class BYOTConnector(BaseConnector):
    """A BYOT shallow classifier on an intermediate feature.

    An attention map (SepConv, BN, ReLU, bilinear resize back to the input size,
    sigmoid) reweights the feature; ``log2(out_channel / in_channel)`` SepConvs
    double its channels (each with ``stride``) up to the deepest stage's; average
    pooling with ``pool_size`` must leave 1x1, the flattened feature of size
    ``out_channel * expansion`` then goes through a linear classifier.

    Args:
        in_channel (int): The stage's base channels; the feature has
            ``in_channel * expansion`` channels.
        out_channel (int): The deepest stage's base channels; ``out_channel /
            in_channel`` must be a power of 2.
        num_classes (int): The number of classes.
        expansion (int): The blocks' channel expansion (1 for BasicBlock, 4 for
            Bottleneck). Defaults to 4.
        pool_size (int): The average pooling's kernel size: the spatial size after
            the SepConvs. Defaults to 4.
        kernel_size (int): The SepConvs' kernel size. Defaults to 3.
        stride (int): The SepConvs' stride. Defaults to 1.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, in_channel: int, out_channel: int, num_classes: int,
                 expansion: int = 4, pool_size: int = 4, kernel_size: int = 3,
                 stride: int = 1, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        num_stages = math.log2(out_channel / in_channel)
        if num_stages < 0 or not num_stages.is_integer():
            raise ValueError(f'BYOTConnector: out_channel / in_channel must be a power '
                             f'of 2 (1, 2, 4, ...), got {out_channel} / {in_channel}')
        channels = in_channel * expansion
        self.attention = nn.Sequential(
            SepConv(channels, channels, kernel_size, stride), nn.BatchNorm2d(channels),
            nn.ReLU())
        scala = []
        for _ in range(int(num_stages)):
            scala.append(SepConv(channels, channels * 2, kernel_size, stride))
            channels *= 2
        self.scala = nn.Sequential(*scala)
        self.pool = nn.AvgPool2d(pool_size)
        self.fc = nn.Linear(out_channel * expansion, num_classes)

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return the pooled feature, shape (N, out_channel * expansion), and the
        logits, shape (N, num_classes)."""
        attention = F.interpolate(self.attention(feature), size=feature.shape[-2:],
                                  mode='bilinear', align_corners=False)
        feat = self.pool(self.scala(torch.sigmoid(attention) * feature))
        if feat.shape[-2:] != (1, 1):
            raise ValueError(f'BYOTConnector: pooling with pool_size={self.pool.kernel_size} '
                             f'left a {tuple(feat.shape[-2:])} map; pool_size must equal '
                             'the spatial size after the SepConvs')
        feat = feat.flatten(1)
        return feat, self.fc(feat)

"""The FBKD connectors of Zhang and Ma, "Improve Object Detection with Feature-based
Knowledge Distillation: Towards Accurate and Efficient Detectors" (ICLR 2021).

Both connectors return the tuple that ``FBKDLoss`` takes as ``s_input`` / ``t_input``:
``(spatial_mask, channel_mask, channel_pool, spatial_pool, relation, feature)``.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import NonLocal2d

from mmrazor.registry import MODELS

from .base_connector import BaseConnector

MODES = ('gaussian', 'embedded_gaussian', 'dot_product', 'concatenation')


class NonLocal2dMaxpoolNstride(NonLocal2d):
    """mmcv's ``NonLocal2d`` with a BN after its output conv and a max pooling of
    stride ``maxpool_stride`` (instead of 2) on its ``g`` and ``phi`` branches.

    Args:
        in_channels (int): The feature's channels.
        reduction (int): The channel reduction of the inner branches. Defaults to 2.
        mode (str): The pairwise function, one of ``MODES``. Defaults to
            'embedded_gaussian'.
        sub_sample (bool): Max-pool the ``g`` and ``phi`` branches. Defaults to
            False.
        maxpool_stride (int): The pooling's kernel size and stride. Defaults to 2.
    """

    def __init__(self, in_channels: int, reduction: int = 2,
                 mode: str = 'embedded_gaussian', sub_sample: bool = False,
                 maxpool_stride: int = 2) -> None:
        super().__init__(in_channels, sub_sample=False, reduction=reduction,
                         norm_cfg=dict(type='BN'), mode=mode)
        self.sub_sample = sub_sample
        if sub_sample:
            max_pool = nn.MaxPool2d(kernel_size=maxpool_stride)
            self.g = nn.Sequential(self.g, max_pool)
            self.phi = max_pool if mode == 'gaussian' else nn.Sequential(self.phi, max_pool)

    def concatenation(self, theta_x: torch.Tensor, phi_x: torch.Tensor) -> torch.Tensor:
        """mmcv's concatenation pairwise function without its in-place division of
        the ReLU output, which breaks the backward pass."""
        h, w = theta_x.size(2), phi_x.size(3)
        concat_feature = torch.cat([theta_x.repeat(1, 1, 1, w), phi_x.repeat(1, 1, h, 1)],
                                   dim=1)
        pairwise_weight = self.concat_project(concat_feature)
        return pairwise_weight.view(pairwise_weight.size(0), h, w) / w


def attention_masks(feature: torch.Tensor, spatial_T: float,
                    channel_T: float) -> Tuple[torch.Tensor, torch.Tensor]:
    """The spatial and channel attention masks of a feature (N, C, H, W).

    Returns:
        tuple[torch.Tensor, torch.Tensor]: ``H * W * softmax(mean_C |F| / spatial_T)``
        of shape (N, 1, H, W) and ``C * softmax(mean_HW |F| / channel_T)`` of shape
        (N, C, 1, 1).
    """
    n, c, h, w = feature.shape
    spatial = feature.abs().mean(dim=1).reshape(n, -1)
    spatial_mask = (h * w * torch.softmax(spatial / spatial_T, dim=1)).reshape(n, 1, h, w)
    channel = feature.abs().mean(dim=(2, 3))
    channel_mask = (c * torch.softmax(channel / channel_T, dim=1)).reshape(n, c, 1, 1)
    return spatial_mask, channel_mask


def pools(feature: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The channel-pooled (N, C) and spatially pooled (N, 1, H, W) features."""
    return feature.mean(dim=(2, 3)), feature.mean(dim=1, keepdim=True)


class _FBKDConnector(BaseConnector):
    """The attention temperatures and the trainable non-local block of both sides
    (arguments: see :class:`FBKDStudentConnector`)."""

    def __init__(self, in_channels: int, reduction: int = 2, mode: str = 'dot_product',
                 sub_sample: bool = False, maxpool_stride: int = 2,
                 spatial_T: float = 0.5, channel_T: float = 0.5,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if mode not in MODES:
            raise ValueError(f'{type(self).__name__}: mode must be one of {MODES}, got '
                             f'{mode!r}')
        self.spatial_T = spatial_T
        self.channel_T = channel_T
        self.non_local = NonLocal2dMaxpoolNstride(in_channels, reduction, mode,
                                                  sub_sample, maxpool_stride)


@MODELS.register_module()
class FBKDStudentConnector(_FBKDConnector):
    """The student side of FBKD: attention masks of the student feature, and the
    pooled features, non-local relation and feature through adaptation layers
    (linear for the channel pool, 3x3 conv for the spatial pool, 1x1 convs for the
    relation and the feature).

    Args:
        in_channels (int): The feature's channels.
        reduction (int): The non-local block's channel reduction. Defaults to 2.
        mode (str): The non-local pairwise function: 'gaussian',
            'embedded_gaussian', 'dot_product' or 'concatenation'. Defaults to
            'dot_product'.
        sub_sample (bool): Max-pool the non-local ``g`` and ``phi`` branches.
            Defaults to False.
        maxpool_stride (int): That pooling's kernel size and stride. Defaults to 2.
        spatial_T (float): The spatial attention's temperature. Defaults to 0.5.
        channel_T (float): The channel attention's temperature. Defaults to 0.5.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, in_channels: int, reduction: int = 2, mode: str = 'dot_product',
                 sub_sample: bool = False, maxpool_stride: int = 2,
                 spatial_T: float = 0.5, channel_T: float = 0.5,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(in_channels, reduction, mode, sub_sample, maxpool_stride,
                         spatial_T, channel_T, init_cfg)
        self.channel_wise_adaptation = nn.Linear(in_channels, in_channels)
        self.spatial_wise_adaptation = nn.Conv2d(1, 1, kernel_size=3, padding=1)
        self.adaptation_layers = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.non_local_adaptation = nn.Conv2d(in_channels, in_channels, kernel_size=1)

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return (spatial_mask, channel_mask, channel_pool_adapt, spatial_pool_adapt,
        relation_adapt, feature_adapt)."""
        spatial_mask, channel_mask = attention_masks(feature, self.spatial_T,
                                                     self.channel_T)
        channel_pool, spatial_pool = pools(feature)
        return (spatial_mask, channel_mask, self.channel_wise_adaptation(channel_pool),
                self.spatial_wise_adaptation(spatial_pool),
                self.non_local_adaptation(self.non_local(feature)),
                self.adaptation_layers(feature))


@MODELS.register_module()
class FBKDTeacherConnector(_FBKDConnector):
    """The teacher side of FBKD: attention masks, pooled features and non-local
    relation of the teacher feature, and the feature itself.

    Args:
        in_channels (int): The feature's channels.
        reduction (int): The non-local block's channel reduction. Defaults to 2.
        mode (str): The non-local pairwise function: 'gaussian',
            'embedded_gaussian', 'dot_product' or 'concatenation'. Defaults to
            'dot_product'.
        sub_sample (bool): Max-pool the non-local ``g`` and ``phi`` branches.
            Defaults to False.
        maxpool_stride (int): That pooling's kernel size and stride. Defaults to 2.
        spatial_T (float): The spatial attention's temperature. Defaults to 0.5.
        channel_T (float): The channel attention's temperature. Defaults to 0.5.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return (spatial_mask, channel_mask, channel_pool, spatial_pool, relation,
        feature)."""
        spatial_mask, channel_mask = attention_masks(feature, self.spatial_T,
                                                     self.channel_T)
        channel_pool, spatial_pool = pools(feature)
        return (spatial_mask, channel_mask, channel_pool, spatial_pool,
                self.non_local(feature), feature)

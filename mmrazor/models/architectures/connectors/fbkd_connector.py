"""The FBKD connectors of Zhang and Ma, "Improve Object Detection with Feature-based
Knowledge Distillation: Towards Accurate and Efficient Detectors" (ICLR 2021).

They return the tuples that ``FBKDLoss`` takes, as MMRazor 1.x's do:

* student (``s_input``, 6 tensors): ``(spatial_mask, channel_mask, channel_pool_adapt,
  spatial_pool_adapt, relation_adapt, feature_adapt)``;
* teacher (``t_input``, 5 tensors): ``(spatial_mask, channel_mask, spatial_pool,
  relation, feature)``; the loss pools the teacher feature's channels itself.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import NonLocal2d

from mmrazor.registry import MODELS

from .base_connector import BaseConnector

MODES = ('gaussian', 'embedded_gaussian', 'dot_product', 'concatenation')


class NonLocal2dMaxpoolNstride(NonLocal2d):
    """mmcv's ``NonLocal2d`` whose ``g`` and ``phi`` branches, with ``sub_sample``,
    are max-pooled by mmcv's 2x2 pooling and then by ``maxpool_stride``, as in
    MMRazor 1.x (keys and values are subsampled ``2 * maxpool_stride`` times per
    side).

    Args:
        in_channels (int): The feature's channels.
        reduction (int): The channel reduction of the inner branches. Defaults to 2.
        conv_cfg (dict): The conv layers' config. Defaults to dict(type='Conv2d').
        norm_cfg (dict, optional): The norm config of the output conv. Defaults to
            dict(type='BN').
        mode (str): The pairwise function, one of ``MODES``. Defaults to
            'embedded_gaussian'.
        sub_sample (bool): Max-pool the ``g`` and ``phi`` branches. Defaults to
            False.
        maxpool_stride (int): The kernel size and stride of the extra pooling.
            Defaults to 2.
        zeros_init (bool): Zero-initialize the output (its norm, or its conv without
            a norm), so that the block starts as the identity. Defaults to True.
        use_scale (bool): Scale the 'embedded_gaussian' pairwise weights by
            ``1 / sqrt(inter_channels)``. Defaults to True.
    """

    def __init__(self,
                 in_channels: int,
                 reduction: int = 2,
                 conv_cfg: Dict = dict(type='Conv2d'),  # noqa: B006
                 norm_cfg: Optional[Dict] = dict(type='BN'),  # noqa: B006
                 mode: str = 'embedded_gaussian',
                 sub_sample: bool = False,
                 maxpool_stride: int = 2,
                 zeros_init: bool = True,
                 use_scale: bool = True) -> None:
        super().__init__(in_channels, sub_sample=sub_sample, conv_cfg=conv_cfg,
                         norm_cfg=norm_cfg, reduction=reduction, mode=mode,
                         zeros_init=zeros_init, use_scale=use_scale)
        if sub_sample:
            max_pool = nn.MaxPool2d(kernel_size=maxpool_stride)
            self.g = nn.Sequential(self.g, max_pool)
            # In 'gaussian' mode mmcv's phi is its 2x2 pooling alone; stacking the extra
            # pooling on it in every mode keeps phi and g the same size (MMRazor 1.x
            # replaced it, which breaks 'gaussian' with sub_sample).
            self.phi = nn.Sequential(self.phi, max_pool)

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


class _FBKDConnector(BaseConnector):
    """The attention temperatures and the trainable non-local block of both sides,
    kept as ``<side>_non_local`` like MMRazor 1.x, so their checkpoints load
    (arguments: see :class:`FBKDStudentConnector`)."""

    _side = ''

    def __init__(self,
                 in_channels: int,
                 reduction: int = 2,
                 conv_cfg: Dict = dict(type='Conv2d'),  # noqa: B006
                 norm_cfg: Optional[Dict] = dict(type='BN'),  # noqa: B006
                 mode: str = 'dot_product',
                 sub_sample: bool = False,
                 maxpool_stride: int = 2,
                 zeros_init: bool = True,
                 spatial_T: float = 0.5,
                 channel_T: float = 0.5,
                 use_scale: bool = True,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if mode not in MODES:
            raise ValueError(f'{type(self).__name__}: mode must be one of {MODES}, got '
                             f'{mode!r}')
        self.in_channels = in_channels
        self.spatial_T = spatial_T
        self.channel_T = channel_T
        setattr(self, f'{self._side}_non_local', NonLocal2dMaxpoolNstride(
            in_channels, reduction, conv_cfg, norm_cfg, mode, sub_sample, maxpool_stride,
            zeros_init, use_scale))
        self.build_adaptation(in_channels)

    def build_adaptation(self, in_channels: int) -> None:
        """Build this side's adaptation layers (none by default)."""

    @property
    def non_local(self) -> NonLocal2dMaxpoolNstride:
        """NonLocal2dMaxpoolNstride: This side's non-local block."""
        return getattr(self, f'{self._side}_non_local')


_ARGS_DOC = """
    Args:
        in_channels (int): The feature's channels.
        reduction (int): The non-local block's channel reduction. Defaults to 2.
        conv_cfg (dict): The non-local block's conv config. Defaults to
            dict(type='Conv2d').
        norm_cfg (dict, optional): The norm config of the non-local block's output
            conv. Defaults to dict(type='BN').
        mode (str): The non-local pairwise function: 'gaussian',
            'embedded_gaussian', 'dot_product' or 'concatenation'. Defaults to
            'dot_product'.
        sub_sample (bool): Max-pool the non-local ``g`` and ``phi`` branches, by 2
            and then by ``maxpool_stride``. Defaults to False.
        maxpool_stride (int): The extra pooling's kernel size and stride. Defaults
            to 2.
        zeros_init (bool): Start the non-local block as the identity. Defaults to
            True.
        spatial_T (float): The spatial attention's temperature. Defaults to 0.5.
        channel_T (float): The channel attention's temperature. Defaults to 0.5.
        use_scale (bool): Scale the 'embedded_gaussian' pairwise weights. Defaults
            to True.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
"""


@MODELS.register_module()
class FBKDStudentConnector(_FBKDConnector):
    __doc__ = """The student side of FBKD: attention masks of the student feature, and
    the pooled features, non-local relation and feature through adaptation layers
    (linear for the channel pool, 3x3 conv for the spatial pool, 1x1 convs for the
    relation and the feature).
    """ + _ARGS_DOC

    _side = 'student'

    def build_adaptation(self, in_channels: int) -> None:
        """Build the linear / conv layers that map student outputs to the teacher's."""
        self.channel_wise_adaptation = nn.Linear(in_channels, in_channels)
        self.spatial_wise_adaptation = nn.Conv2d(1, 1, kernel_size=3, padding=1)
        self.adaptation_layers = nn.Conv2d(in_channels, in_channels, kernel_size=1)
        self.non_local_adaptation = nn.Conv2d(in_channels, in_channels, kernel_size=1)

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return (spatial_mask, channel_mask, channel_pool_adapt, spatial_pool_adapt,
        relation_adapt, feature_adapt)."""
        spatial_mask, channel_mask = attention_masks(feature, self.spatial_T,
                                                     self.channel_T)
        return (spatial_mask, channel_mask,
                self.channel_wise_adaptation(feature.mean(dim=(2, 3))),
                self.spatial_wise_adaptation(feature.mean(dim=1, keepdim=True)),
                self.non_local_adaptation(self.non_local(feature)),
                self.adaptation_layers(feature))


@MODELS.register_module()
class FBKDTeacherConnector(_FBKDConnector):
    __doc__ = """The teacher side of FBKD: attention masks, spatially pooled feature
    and non-local relation of the teacher feature, and the feature itself.
    """ + _ARGS_DOC

    _side = 'teacher'

    def forward_train(self, feature: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return (spatial_mask, channel_mask, spatial_pool, relation, feature)."""
        spatial_mask, channel_mask = attention_masks(feature, self.spatial_T,
                                                     self.channel_T)
        return (spatial_mask, channel_mask, feature.mean(dim=1, keepdim=True),
                self.non_local(feature), feature)

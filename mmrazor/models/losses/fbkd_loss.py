"""FBKDLoss: Zhang and Ma, "Improve Object Detection with Feature-based Knowledge
Distillation: Towards Accurate and Efficient Detectors" (ICLR 2021)."""
from typing import Tuple

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_shapes

# The order of the tensors in the tuples made by the FBKD connectors.
FIELDS = ('spatial_mask', 'channel_mask', 'channel_pool', 'spatial_pool', 'relation',
          'feature')


def mask_l2_loss(feat_a: torch.Tensor, feat_b: torch.Tensor, spatial_mask: torch.Tensor,
                 channel_mask: torch.Tensor) -> torch.Tensor:
    """``sqrt(sum (a - b)^2 * M_s * M_c)``: the attention-masked L2 distance."""
    return torch.sum((feat_a - feat_b)**2 * spatial_mask * channel_mask)**0.5


@MODELS.register_module()
class FBKDLoss(nn.Module):
    """The sum of four terms, each an L2 distance over the whole batch:

    - attention-guided feature loss ``mask_l2_weight * sqrt(sum (F_T - F_S)^2 * M_s * M_c)``
      with the spatial / channel masks ``M = (mask_S + mask_T) / 2`` (no gradient);
    - ``channel_weight * ||pool_c(F_T) - pool_c(F_S)||`` (channel-pooled features);
    - ``spatial_weight * ||pool_s(F_T) - pool_s(F_S)||`` (spatially pooled features);
    - non-local loss ``nonloacl_weight * ||R_S - R_T||`` between the relation
      features. The teacher's relation comes from a trainable non-local block of the
      teacher connector, so it keeps its gradient; the other teacher inputs do not.

    Args:
        mask_l2_weight (float): The feature loss's weight. Defaults to 7e-5.
        channel_weight (float): The channel loss's weight. Defaults to 4e-3.
        spatial_weight (float): The spatial loss's weight. Defaults to 4e-3.
        nonloacl_weight (float): The non-local loss's weight. Defaults to 7e-5.
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, mask_l2_weight: float = 7e-5, channel_weight: float = 4e-3,
                 spatial_weight: float = 4e-3, nonloacl_weight: float = 7e-5,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.mask_l2_weight = mask_l2_weight
        self.channel_weight = channel_weight
        self.spatial_weight = spatial_weight
        self.nonloacl_weight = nonloacl_weight
        self.loss_weight = loss_weight

    def forward(self, s_input: Tuple[torch.Tensor, ...],
                t_input: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Return the weighted loss.

        Args:
            s_input (Tuple[torch.Tensor, ...]): The student connector's (spatial_mask,
                channel_mask, channel_pool_adapt, spatial_pool_adapt, relation_adapt,
                feature_adapt).
            t_input (Tuple[torch.Tensor, ...]): The teacher connector's (spatial_mask,
                channel_mask, channel_pool, spatial_pool, relation, feature).
        """
        for name, inputs in (('s_input', s_input), ('t_input', t_input)):
            if len(inputs) != len(FIELDS):
                raise ValueError(f'FBKDLoss: {name} must hold {len(FIELDS)} tensors '
                                 f'{FIELDS}, got {len(inputs)}')
        for i, field in enumerate(FIELDS):
            check_shapes('FBKDLoss', f's_input[{i}] ({field})', s_input[i],
                         f't_input[{i}] ({field})', t_input[i])
        s_spatial_mask, s_channel_mask, s_channel_pool, s_spatial_pool, s_relation, \
            s_feat = s_input
        t_relation = t_input[4]
        t_spatial_mask, t_channel_mask, t_channel_pool, t_spatial_pool, _, t_feat = (
            t.detach() for t in t_input)

        spatial_mask = ((s_spatial_mask + t_spatial_mask) / 2).detach()
        channel_mask = ((s_channel_mask + t_channel_mask) / 2).detach()
        loss = self.mask_l2_weight * mask_l2_loss(t_feat, s_feat, spatial_mask,
                                                  channel_mask)
        loss = loss + self.channel_weight * torch.dist(t_channel_pool, s_channel_pool)
        loss = loss + self.spatial_weight * torch.dist(t_spatial_pool, s_spatial_pool)
        loss = loss + self.nonloacl_weight * torch.dist(s_relation, t_relation, p=2)
        return self.loss_weight * loss

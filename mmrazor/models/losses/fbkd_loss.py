"""FBKDLoss: Zhang and Ma, "Improve Object Detection with Feature-based Knowledge
Distillation: Towards Accurate and Efficient Detectors" (ICLR 2021)."""
from typing import Tuple

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_shapes

# The tensors in the tuples made by the FBKD connectors, in order.
STUDENT_FIELDS = ('spatial_mask', 'channel_mask', 'channel_pool', 'spatial_pool',
                  'relation', 'feature')
TEACHER_FIELDS = ('spatial_mask', 'channel_mask', 'spatial_pool', 'relation', 'feature')


def mask_l2_loss(feat_a: torch.Tensor, feat_b: torch.Tensor,
                 spatial_mask: torch.Tensor) -> torch.Tensor:
    """``sqrt(sum (a - b)^2 * M_s)``: the attention-masked L2 distance."""
    return torch.sum((feat_a - feat_b)**2 * spatial_mask)**0.5


@MODELS.register_module()
class FBKDLoss(nn.Module):
    """The sum of four terms, each an L2 distance over the whole batch:

    - attention-guided feature loss ``mask_l2_weight * sqrt(sum (F_T - F_S)^2 * M_s)``
      with the spatial mask ``M_s = (mask_S + mask_T) / 2`` (no gradient). As in
      MMRazor 1.x and the paper's code, the channel masks are made by the connectors
      but do not weight the loss;
    - ``channel_weight * ||pool_c(F_T) - pool_c(F_S)||`` (channel-pooled features;
      the teacher's is pooled here from ``F_T``);
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
                channel_mask, spatial_pool, relation, feature).
        """
        for name, inputs, fields in (('s_input', s_input, STUDENT_FIELDS),
                                     ('t_input', t_input, TEACHER_FIELDS)):
            if len(inputs) != len(fields):
                raise ValueError(f'FBKDLoss: {name} must hold {len(fields)} tensors '
                                 f'{fields}, got {len(inputs)}')
        s_spatial_mask, s_channel_mask, s_channel_pool, s_spatial_pool, s_relation, \
            s_feat = s_input
        t_relation = t_input[3]
        t_spatial_mask, t_channel_mask, t_spatial_pool, _, t_feat = (
            t.detach() for t in t_input)
        t_channel_pool = t_feat.mean(dim=(2, 3))
        for field, s_tensor, t_tensor in (
                ('spatial_mask', s_spatial_mask, t_spatial_mask),
                ('channel_mask', s_channel_mask, t_channel_mask),
                ('channel_pool', s_channel_pool, t_channel_pool),
                ('spatial_pool', s_spatial_pool, t_spatial_pool),
                ('relation', s_relation, t_relation), ('feature', s_feat, t_feat)):
            t_name = (f't_input[{TEACHER_FIELDS.index(field)}] ({field})'
                      if field in TEACHER_FIELDS else 'the channel pool of t_input[4]')
            check_shapes('FBKDLoss', f's_input[{STUDENT_FIELDS.index(field)}] ({field})',
                         s_tensor, t_name, t_tensor)

        spatial_mask = ((s_spatial_mask + t_spatial_mask) / 2).detach()
        loss = self.mask_l2_weight * mask_l2_loss(t_feat, s_feat, spatial_mask)
        loss = loss + self.channel_weight * torch.dist(t_channel_pool, s_channel_pool)
        loss = loss + self.spatial_weight * torch.dist(t_spatial_pool, s_spatial_pool)
        loss = loss + self.nonloacl_weight * torch.dist(s_relation, t_relation, p=2)
        return self.loss_weight * loss

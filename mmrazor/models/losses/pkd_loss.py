"""PKDLoss: Cao et al., "PKD: General Distillation Framework for Object Detectors via
Pearson Correlation Coefficient" (NeurIPS 2022)."""
from typing import Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_ndim, check_shapes

Features = Union[torch.Tensor, Tuple[torch.Tensor, ...]]


def channel_standardize(feat: torch.Tensor) -> torch.Tensor:
    """Standardize each channel of (N, C, H, W) over N, H and W (zero mean, unit std)."""
    flat = feat.transpose(0, 1).reshape(feat.shape[1], -1)
    mean = flat.mean(dim=1, keepdim=True)
    std = flat.std(dim=1, keepdim=True)
    return ((flat - mean) / (std + 1e-6)).reshape_as(feat.transpose(0, 1)).transpose(0, 1)


@MODELS.register_module()
class PKDLoss(nn.Module):
    """``sum over levels of MSE(std(S), std(T)) / 2``, ``std`` standardizing each
    channel over its M = N * H * W values: that is ``(M - 1) / M * mean_c (1 - r_c)``
    with r_c the Pearson correlation of channel c. When the spatial sizes differ, the
    student (or the teacher) is resized bilinearly.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        resize_stu (bool): Whether to resize the student feature to the teacher's
            size (else the teacher to the student's). Defaults to True.
    """

    def __init__(self, loss_weight: float = 1.0, resize_stu: bool = True) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.resize_stu = resize_stu

    def forward(self, preds_S: Features, preds_T: Features) -> torch.Tensor:
        """Return the weighted loss between (N, C, H, W) features or tuples of them,
        one per level."""
        if isinstance(preds_S, torch.Tensor):
            preds_S, preds_T = (preds_S, ), (preds_T, )
        if len(preds_S) != len(preds_T):
            raise ValueError(f'PKDLoss: preds_S has {len(preds_S)} levels but preds_T '
                             f'has {len(preds_T)}; they must match')
        loss = 0.
        for pred_S, pred_T in zip(preds_S, preds_T):
            check_ndim('PKDLoss', 'preds_S', pred_S, 4)
            check_ndim('PKDLoss', 'preds_T', pred_T, 4)
            check_shapes('PKDLoss', 'preds_S', pred_S, 'preds_T', pred_T, dims=(0, 1))
            pred_T = pred_T.detach()
            if pred_S.shape[2:] != pred_T.shape[2:]:
                if self.resize_stu:
                    pred_S = F.interpolate(pred_S, pred_T.shape[2:], mode='bilinear')
                else:
                    pred_T = F.interpolate(pred_T, pred_S.shape[2:], mode='bilinear')
            loss = loss + F.mse_loss(channel_standardize(pred_S),
                                     channel_standardize(pred_T)) / 2
        return self.loss_weight * loss

"""KDSoftCELoss: Hinton et al., "Distilling the Knowledge in a Neural Network" (2015),
as a soft-target cross-entropy with MMDetection-style weights and reductions."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_choice, check_positive, check_shapes

REDUCTIONS = (None, 'none', 'mean', 'sum')


@MODELS.register_module()
class KDSoftCELoss(nn.Module):
    """Per sample ``-sum_c softmax(T / tau)_c * log_softmax(S / tau)_c`` (classes on
    the last dim), times ``tau^2`` when ``mult_tem_square``, then weighted and reduced.

    Args:
        tau (float): The temperature. Defaults to 1.0.
        reduction (str, optional): ``'none'``, ``'mean'`` or ``'sum'`` over the samples
            (None means ``'none'``). Defaults to 'mean'.
        mult_tem_square (bool): Whether to multiply the loss by ``tau^2``.
            Defaults to True.
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, reduction: Optional[str] = 'mean',
                 mult_tem_square: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        check_positive('KDSoftCELoss', 'tau', tau)
        check_choice('KDSoftCELoss', 'reduction', reduction, REDUCTIONS)
        self.tau = tau
        self.reduction = reduction
        self.mult_tem_square = mult_tem_square
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> torch.Tensor:
        """Return the weighted loss of student logits ``preds_S`` (..., C) against teacher
        logits ``preds_T`` of the same shape.

        Args:
            preds_S (torch.Tensor): The student's logits.
            preds_T (torch.Tensor): The teacher's logits.
            weight (torch.Tensor, optional): Per-sample weights (shape ``preds_S``
                without its last dim). Defaults to None.
            avg_factor (float, optional): With ``'mean'``, divide the sum by this
                instead of the number of samples. Defaults to None.
            reduction_override (str, optional): Replaces ``reduction`` for this call.
                Defaults to None.
        """
        check_choice('KDSoftCELoss', 'reduction_override', reduction_override, REDUCTIONS)
        check_shapes('KDSoftCELoss', 'preds_S', preds_S, 'preds_T', preds_T)
        reduction = reduction_override or self.reduction or 'none'
        soft_target = F.softmax(preds_T.detach() / self.tau, dim=-1)
        loss = -(soft_target * F.log_softmax(preds_S / self.tau, dim=-1)).sum(dim=-1)
        if weight is not None:
            check_shapes('KDSoftCELoss', 'weight', weight, 'the per-sample loss', loss)
            loss = loss * weight.to(loss.dtype)
        loss = _reduce(loss, reduction, avg_factor)
        if self.mult_tem_square:
            loss = loss * self.tau**2
        return self.loss_weight * loss


def _reduce(loss: torch.Tensor, reduction: str, avg_factor: Optional[float]) -> torch.Tensor:
    """Reduce like MMDetection's ``weight_reduce_loss``."""
    if reduction == 'none':
        return loss
    if avg_factor is None:
        return loss.mean() if reduction == 'mean' else loss.sum()
    if reduction == 'sum':
        raise ValueError('KDSoftCELoss: avg_factor can only be used with reduction '
                         "'mean' or 'none', got 'sum'")
    # The epsilon avoids a division by zero when avg_factor is 0 (no positive sample).
    return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)

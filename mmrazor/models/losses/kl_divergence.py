"""KLDivergence: Hinton et al., "Distilling the Knowledge in a Neural Network" (2015)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_choice, check_positive, check_shapes

REDUCTIONS = ('none', 'batchmean', 'sum', 'mean')


@MODELS.register_module()
class KLDivergence(nn.Module):
    """Soft-label distillation: ``tau^2 * KL(softmax(T / tau) || softmax(S / tau))``.

    The softmax runs over dim 1 (the classes).

    Args:
        tau (float): The temperature. Defaults to 1.0.
        reduction (str): How ``F.kl_div`` reduces the elementwise terms: ``'none'``,
            ``'batchmean'`` (sum / N), ``'sum'`` or ``'mean'`` (sum / numel).
            Defaults to 'batchmean'.
        loss_weight (float): The loss's weight. Defaults to 1.0.
        teacher_detach (bool): Whether to stop the gradient at ``preds_T``; False lets
            a generator learn through the teacher (data-free distillation).
            Defaults to True.
    """

    def __init__(self, tau: float = 1.0, reduction: str = 'batchmean',
                 loss_weight: float = 1.0, teacher_detach: bool = True) -> None:
        super().__init__()
        check_positive('KLDivergence', 'tau', tau)
        check_choice('KLDivergence', 'reduction', reduction, REDUCTIONS)
        self.tau = tau
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of student logits ``preds_S`` (N, C, ...) against
        teacher logits ``preds_T`` of the same shape."""
        check_shapes('KLDivergence', 'preds_S', preds_S, 'preds_T', preds_T)
        if self.teacher_detach:
            preds_T = preds_T.detach()
        softmax_T = F.softmax(preds_T / self.tau, dim=1)
        log_softmax_S = F.log_softmax(preds_S / self.tau, dim=1)
        loss = self.tau**2 * F.kl_div(log_softmax_S, softmax_T, reduction=self.reduction)
        return self.loss_weight * loss

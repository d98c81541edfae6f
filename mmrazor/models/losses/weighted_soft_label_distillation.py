"""WSLD: Zhou et al., "Rethinking Soft Labels for Knowledge Distillation: A Bias-Variance
Tradeoff Perspective" (ICLR 2021)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_labels, check_ndim, check_positive, check_shapes


@MODELS.register_module()
class WSLD(nn.Module):
    """Weighted soft labels: each sample's soft cross-entropy
    ``-sum softmax(T / tau) * log_softmax(S / tau)`` is weighted by
    ``1 - exp(-max(CE_S / CE_T, 0))``, where ``CE_S`` and ``CE_T`` are the student's
    and teacher's (tau = 1, no gradient) cross-entropies with the labels; the loss is
    ``tau^2`` times the batch mean.

    Args:
        tau (float): The temperature. Defaults to 1.0.
        loss_weight (float): The loss's weight. Defaults to 1.0.
        num_classes (int): The number of classes C of the logits. Defaults to 1000.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0,
                 num_classes: int = 1000) -> None:
        super().__init__()
        check_positive('WSLD', 'tau', tau)
        check_positive('WSLD', 'num_classes', num_classes)
        self.tau = tau
        self.loss_weight = loss_weight
        self.num_classes = num_classes

    def forward(self, student: torch.Tensor, teacher: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of student logits ``student`` (N, C) against
        teacher logits ``teacher`` (N, C), given the class indices ``gt_labels`` (N,)."""
        check_ndim('WSLD', 'student', student, 2)
        check_shapes('WSLD', 'student', student, 'teacher', teacher)
        check_labels('WSLD', gt_labels, student)
        if student.shape[1] != self.num_classes:
            raise ValueError(f'WSLD: student has {student.shape[1]} classes (shape '
                             f'{tuple(student.shape)}) but num_classes={self.num_classes}')
        teacher = teacher.detach()
        probs_T = F.softmax(teacher / self.tau, dim=1)
        soft_ce = -(probs_T * F.log_softmax(student / self.tau, dim=1)).sum(1, keepdim=True)

        one_hot = F.one_hot(gt_labels, self.num_classes).to(student.dtype)
        ce_S = -(one_hot * F.log_softmax(student.detach(), dim=1)).sum(1, keepdim=True)
        ce_T = -(one_hot * F.log_softmax(teacher, dim=1)).sum(1, keepdim=True)
        ratio = (ce_S / (ce_T + 1e-7)).clamp(min=0)
        focal_weight = 1 - torch.exp(-ratio)
        loss = self.tau**2 * torch.mean(focal_weight * soft_ce)
        return self.loss_weight * loss

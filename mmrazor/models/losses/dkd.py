"""DKDLoss: Zhao et al., "Decoupled Knowledge Distillation" (CVPR 2022)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .kl_divergence import REDUCTIONS
from .utils import check_choice, check_labels, check_ndim, check_positive, check_shapes

# Subtracted from the ground-truth logit so that its softmax weight is exactly 0.
_MASK_OFFSET = 1000.0


@MODELS.register_module()
class DKDLoss(nn.Module):
    """KD split into a target-class and a non-target-class term:
    ``alpha * TCKD + beta * NCKD``, both ``tau^2 * KL(T || S)``. TCKD compares the
    binary distributions (p_gt, 1 - p_gt); NCKD compares the softmaxes over the
    non-target classes only.

    Args:
        tau (float): The temperature. Defaults to 1.0.
        alpha (float): The weight of TCKD. Defaults to 1.0.
        beta (float): The weight of NCKD. Defaults to 1.0.
        reduction (str): How the per-sample losses ``alpha * TCKD + beta * NCKD``
            (each KL summed over its classes) are reduced: ``'none'`` (shape (N,)),
            ``'sum'``, ``'batchmean'`` (sum / N) or ``'mean'`` (sum / (N * C), the
            mean over the logits, as ``F.kl_div``'s ``'mean'``). Defaults to
            'batchmean'.
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, alpha: float = 1.0, beta: float = 1.0,
                 reduction: str = 'batchmean', loss_weight: float = 1.0) -> None:
        super().__init__()
        check_positive('DKDLoss', 'tau', tau)
        check_choice('DKDLoss', 'reduction', reduction, REDUCTIONS)
        self.tau = tau
        self.alpha = alpha
        self.beta = beta
        self.reduction = reduction
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                gt_labels: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of student logits ``preds_S`` (N, C) against
        teacher logits ``preds_T`` (N, C), given the class indices ``gt_labels`` (N,)."""
        check_ndim('DKDLoss', 'preds_S', preds_S, 2)
        check_shapes('DKDLoss', 'preds_S', preds_S, 'preds_T', preds_T)
        check_labels('DKDLoss', gt_labels, preds_S)
        preds_T = preds_T.detach()
        gt_mask = F.one_hot(gt_labels, preds_S.shape[1]).to(preds_S.dtype)
        tckd = self._tckd_loss(preds_S, preds_T, gt_mask)
        nckd = self._nckd_loss(preds_S, preds_T, gt_mask)
        return self.loss_weight * self._reduce(self.alpha * tckd + self.beta * nckd,
                                               preds_S.numel())

    def _reduce(self, per_sample: torch.Tensor, num_logits: int) -> torch.Tensor:
        """Reduce the (N,) per-sample losses; TCKD (2 classes) and NCKD (C classes)
        are summed per sample first, so every reduction treats them alike."""
        if self.reduction == 'none':
            return per_sample
        if self.reduction == 'sum':
            return per_sample.sum()
        if self.reduction == 'batchmean':
            return per_sample.sum() / per_sample.numel()
        return per_sample.sum() / num_logits

    def _tckd_loss(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                   gt_mask: torch.Tensor) -> torch.Tensor:
        """KL between the binary (target, non-target) distributions."""
        probs_S = self._binary(F.softmax(preds_S / self.tau, dim=1), gt_mask)
        probs_T = self._binary(F.softmax(preds_T / self.tau, dim=1), gt_mask)
        return self._kl_loss(torch.log(probs_S), probs_T)

    def _nckd_loss(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                   gt_mask: torch.Tensor) -> torch.Tensor:
        """KL between the softmaxes over the non-target classes."""
        offset = _MASK_OFFSET * gt_mask
        log_probs_S = F.log_softmax(preds_S / self.tau - offset, dim=1)
        probs_T = F.softmax(preds_T / self.tau - offset, dim=1)
        return self._kl_loss(log_probs_S, probs_T)

    @staticmethod
    def _binary(probs: torch.Tensor, gt_mask: torch.Tensor) -> torch.Tensor:
        """(N, C) class probabilities -> (N, 2) target / non-target probabilities."""
        target = (probs * gt_mask).sum(dim=1, keepdim=True)
        return torch.cat([target, (probs * (1 - gt_mask)).sum(dim=1, keepdim=True)], dim=1)

    def _kl_loss(self, log_probs_S: torch.Tensor, probs_T: torch.Tensor) -> torch.Tensor:
        """``tau^2 * KL(T || S)`` of each sample, shape (N,)."""
        return self.tau**2 * F.kl_div(log_probs_S, probs_T, reduction='none').sum(dim=1)

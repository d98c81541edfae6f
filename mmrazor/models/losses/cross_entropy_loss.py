"""CrossEntropyLoss: cross-entropy of the student's logits with the teacher's soft
targets (Hinton et al., "Distilling the Knowledge in a Neural Network", 2015)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_shapes


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """``mean_n -sum_c preds_T[n, c] * log_softmax(preds_S)[n, c]``: ``preds_T`` holds
    class probabilities (a softmax the teacher already applied), as in
    ``F.cross_entropy`` with probability targets.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of student logits ``preds_S`` (N, C, ...) against
        teacher probabilities ``preds_T`` of the same shape."""
        check_shapes('CrossEntropyLoss', 'preds_S', preds_S, 'preds_T', preds_T)
        return self.loss_weight * F.cross_entropy(preds_S, preds_T.detach())

"""DISTLoss: Huang et al., "Knowledge Distillation from A Stronger Teacher"
(NeurIPS 2022)."""
import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_ndim, check_positive, check_shapes


def pearson_correlation(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """The Pearson correlation of each row of ``a`` with the same row of ``b``."""
    a = a - a.mean(dim=1, keepdim=True)
    b = b - b.mean(dim=1, keepdim=True)
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


@MODELS.register_module()
class DISTLoss(nn.Module):
    """Matches relations rather than values of ``Y = softmax(logits / tau)`` (N, C):
    the inter-class relation ``1 - mean_n pearson(Y_S[n, :], Y_T[n, :])`` (over the
    classes of each sample) and the intra-class relation
    ``1 - mean_c pearson(Y_S[:, c], Y_T[:, c])`` (over the batch for each class),
    each scaled by ``tau^2``.

    Args:
        inter_loss_weight (float): The weight of the inter-class term. Defaults to 1.0.
        intra_loss_weight (float): The weight of the intra-class term. Defaults to 1.0.
        tau (float): The temperature. Defaults to 1.0.
        loss_weight (float): The loss's weight. Defaults to 1.0.
        teacher_detach (bool): Whether to stop the gradient at ``logits_T``.
            Defaults to True.
    """

    def __init__(self, inter_loss_weight: float = 1.0, intra_loss_weight: float = 1.0,
                 tau: float = 1.0, loss_weight: float = 1.0,
                 teacher_detach: bool = True) -> None:
        super().__init__()
        check_positive('DISTLoss', 'tau', tau)
        self.inter_loss_weight = inter_loss_weight
        self.intra_loss_weight = intra_loss_weight
        self.tau = tau
        self.loss_weight = loss_weight
        self.teacher_detach = teacher_detach

    def forward(self, logits_S: torch.Tensor, logits_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of student logits ``logits_S`` (N, C) against
        teacher logits ``logits_T`` of the same shape."""
        check_ndim('DISTLoss', 'logits_S', logits_S, 2)
        check_shapes('DISTLoss', 'logits_S', logits_S, 'logits_T', logits_T)
        if self.teacher_detach:
            logits_T = logits_T.detach()
        y_s = (logits_S / self.tau).softmax(dim=1)
        y_t = (logits_T / self.tau).softmax(dim=1)
        inter_loss = 1 - pearson_correlation(y_s, y_t).mean()
        intra_loss = 1 - pearson_correlation(y_s.t(), y_t.t()).mean()
        loss = self.tau**2 * (self.inter_loss_weight * inter_loss
                              + self.intra_loss_weight * intra_loss)
        return self.loss_weight * loss

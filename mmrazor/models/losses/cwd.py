"""ChannelWiseDivergence: Shu et al., "Channel-wise Knowledge Distillation for Dense
Prediction" (ICCV 2021)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_ndim, check_positive, check_shapes


@MODELS.register_module()
class ChannelWiseDivergence(nn.Module):
    """Each channel's spatial map becomes a distribution ``softmax(x / tau)`` over its
    H * W positions; the loss is ``tau^2 * sum_{n,c} KL(T_nc || S_nc) / (N * C)``.

    Args:
        tau (float): The temperature. Defaults to 1.0.
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        check_positive('ChannelWiseDivergence', 'tau', tau)
        self.tau = tau
        self.loss_weight = loss_weight

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of student maps ``preds_S`` (N, C, H, W) against
        teacher maps ``preds_T`` of the same shape."""
        check_ndim('ChannelWiseDivergence', 'preds_S', preds_S, 4)
        check_shapes('ChannelWiseDivergence', 'preds_S', preds_S, 'preds_T', preds_T)
        N, C, H, W = preds_S.shape
        logits_T = preds_T.detach().reshape(-1, H * W) / self.tau
        logits_S = preds_S.reshape(-1, H * W) / self.tau
        softmax_T = F.softmax(logits_T, dim=1)
        kl = softmax_T * (F.log_softmax(logits_T, dim=1) - F.log_softmax(logits_S, dim=1))
        loss = self.tau**2 * kl.sum() / (N * C)
        return self.loss_weight * loss

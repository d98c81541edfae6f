"""OFDLoss: Heo et al., "A Comprehensive Overhaul of Feature Distillation" (ICCV 2019)."""
import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_positive, check_shapes


@MODELS.register_module()
class OFDLoss(nn.Module):
    """Partial L2 between the student's pre-ReLU feature and the teacher's
    margin-ReLU feature: ``(S - T)^2`` counts except where both T <= 0 and S <= T
    (the student is already negative enough), summed, divided by N and ``mul_factor``.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        mul_factor (float): The divisor of the summed loss. Defaults to 1000.
    """

    def __init__(self, loss_weight: float = 1.0, mul_factor: float = 1000) -> None:
        super().__init__()
        check_positive('OFDLoss', 'mul_factor', mul_factor)
        self.loss_weight = loss_weight
        self.mul_factor = mul_factor

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between features of the same shape (N, ...)."""
        check_shapes('OFDLoss', 's_feature', s_feature, 't_feature', t_feature)
        t_feature = t_feature.detach()
        mask = ((s_feature > t_feature) | (t_feature > 0)).to(s_feature.dtype)
        loss = ((s_feature - t_feature)**2 * mask).sum() / s_feature.size(0)
        return self.loss_weight * loss / self.mul_factor

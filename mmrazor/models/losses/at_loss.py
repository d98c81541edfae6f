"""ATLoss: Zagoruyko and Komodakis, "Paying More Attention to Attention: Improving the
Performance of Convolutional Neural Networks via Attention Transfer" (ICLR 2017)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_ndim, check_shapes


def attention_map(feature: torch.Tensor) -> torch.Tensor:
    """``normalize(mean_c f^2)``: the (N, H * W) L2-normalized spatial attention."""
    return F.normalize(feature.pow(2).mean(1).reshape(feature.size(0), -1))


@MODELS.register_module()
class ATLoss(nn.Module):
    """``mean (Q_S - Q_T)^2`` with ``Q = normalize(mean_c f^2)`` per sample; the
    channel counts may differ.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between features (N, C_S, H, W) and (N, C_T, H, W)."""
        check_ndim('ATLoss', 's_feature', s_feature, 4)
        check_ndim('ATLoss', 't_feature', t_feature, 4)
        check_shapes('ATLoss', 's_feature', s_feature, 't_feature', t_feature, dims=(0, 2, 3))
        diff = attention_map(s_feature) - attention_map(t_feature.detach())
        return self.loss_weight * diff.pow(2).mean()

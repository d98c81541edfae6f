"""FTLoss: Kim et al., "Paraphrasing Complex Network: Network Compression via Factor
Transfer" (NeurIPS 2018)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_shapes


@MODELS.register_module()
class FTLoss(nn.Module):
    """``mean |F_S / ||F_S|| - F_T / ||F_T|| |``: L1 between the per-sample
    L2-normalized factors of the translator (student) and the paraphraser (teacher).

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between factors of the same shape (N, ...)."""
        check_shapes('FTLoss', 's_feature', s_feature, 't_feature', t_feature)
        loss = F.l1_loss(self._factor(s_feature), self._factor(t_feature.detach()))
        return self.loss_weight * loss

    @staticmethod
    def _factor(feature: torch.Tensor) -> torch.Tensor:
        return F.normalize(feature.reshape(feature.size(0), -1))

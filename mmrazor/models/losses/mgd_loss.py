"""MGDLoss: Yang et al., "Masked Generative Distillation" (ECCV 2022)."""
import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_shapes


@MODELS.register_module()
class MGDLoss(nn.Module):
    """``alpha_mgd * sum (G(mask(S)) - T)^2 / N``; the MGD connector masks the
    student feature and generates ``preds_S`` from it.

    Args:
        alpha_mgd (float): The loss's weight. Defaults to 2e-5.
    """

    def __init__(self, alpha_mgd: float = 2e-5) -> None:
        super().__init__()
        self.alpha_mgd = alpha_mgd

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between features of the same shape (N, C, H, W)."""
        check_shapes('MGDLoss', 'preds_S', preds_S, 'preds_T', preds_T)
        loss = torch.sum((preds_S - preds_T.detach())**2) / preds_S.shape[0]
        return self.alpha_mgd * loss

"""ABLoss: Heo et al., "Knowledge Transfer via Distillation of Activation Boundaries
Formed by Hidden Neurons" (AAAI 2019)."""
import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_shapes


@MODELS.register_module()
class ABLoss(nn.Module):
    """Alternative squared hinge on pre-ReLU features: where the teacher neuron is
    active (T > 0) the student is pushed above ``margin``, where it is inactive below
    ``-margin``:
    ``sum (S + m)^2 [S > -m, T <= 0] + (S - m)^2 [S <= m, T > 0]``, divided by N and
    scaled by 3 / 1000 as in the authors' code.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        margin (float): The margin m. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0, margin: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.margin = margin

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between pre-ReLU features of the same shape (N, ...)."""
        check_shapes('ABLoss', 's_feature', s_feature, 't_feature', t_feature)
        m = self.margin
        t_feature = t_feature.detach()
        inactive = ((s_feature > -m) & (t_feature <= 0)).to(s_feature.dtype)
        active = ((s_feature <= m) & (t_feature > 0)).to(s_feature.dtype)
        loss = ((s_feature + m)**2 * inactive + (s_feature - m)**2 * active).sum()
        loss = loss / s_feature.shape[0] / 1000 * 3
        return self.loss_weight * loss

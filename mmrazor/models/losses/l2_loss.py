"""L2Loss: squared error between features, as in FitNets (Romero et al., "FitNets:
Hints for Thin Deep Nets", ICLR 2015)."""
import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .utils import check_shapes


@MODELS.register_module()
class L2Loss(nn.Module):
    """``sum (S - T)^2`` over the whole batch, divided by N (or by the number of
    elements), or its square root (a distance). With ``normalize`` each sample's
    flattened feature is first scaled to L2 norm ``mult``.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        normalize (bool): Whether to L2-normalize each sample's feature.
            Defaults to True.
        mult (float): The norm of the normalized features. Defaults to 1.0.
        div_element (bool): Whether to divide the sum by the number of elements
            instead of N. Defaults to False.
        dist (bool): Whether to return ``sqrt(sum (S - T)^2)`` with no division.
            Defaults to False.
    """

    def __init__(self, loss_weight: float = 1.0, normalize: bool = True, mult: float = 1.0,
                 div_element: bool = False, dist: bool = False) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.normalize = normalize
        self.mult = mult
        self.div_element = div_element
        self.dist = dist

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between two features of the same shape (N, ...)."""
        check_shapes('L2Loss', 's_feature', s_feature, 't_feature', t_feature)
        t_feature = t_feature.detach()
        if self.normalize:
            s_feature = self._normalize(s_feature)
            t_feature = self._normalize(t_feature)
        loss = torch.sum((s_feature - t_feature)**2)
        if self.dist:
            loss = torch.sqrt(loss)
        elif self.div_element:
            loss = loss / s_feature.numel()
        else:
            loss = loss / s_feature.size(0)
        return self.loss_weight * loss

    def _normalize(self, feature: torch.Tensor) -> torch.Tensor:
        feature = feature.reshape(feature.size(0), -1)
        return feature / feature.norm(2, dim=1, keepdim=True) * self.mult

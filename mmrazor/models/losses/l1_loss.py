"""L1Loss: mean absolute error between features (used e.g. by DFAD, Fang et al.,
"Data-Free Adversarial Distillation", 2019)."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_choice, check_shapes


@MODELS.register_module()
class L1Loss(nn.Module):
    """``F.l1_loss(s_feature, t_feature)``. The teacher keeps its gradient: with a
    negative ``loss_weight`` the loss trains a generator through both networks (DFAD).

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        size_average (bool, optional): Deprecated torch option, see
            ``torch.nn.L1Loss``. Defaults to None.
        reduce (bool, optional): Deprecated torch option, see ``torch.nn.L1Loss``.
            Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to 'mean'.
    """

    def __init__(self, loss_weight: float = 1.0, size_average: Optional[bool] = None,
                 reduce: Optional[bool] = None, reduction: str = 'mean') -> None:
        super().__init__()
        check_choice('L1Loss', 'reduction', reduction, ('none', 'mean', 'sum'))
        self.loss_weight = loss_weight
        self.size_average = size_average
        self.reduce = reduce
        self.reduction = reduction

    def forward(self, s_feature: torch.Tensor, t_feature: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between two features of the same shape."""
        check_shapes('L1Loss', 's_feature', s_feature, 't_feature', t_feature)
        loss = F.l1_loss(s_feature, t_feature, self.size_average, self.reduce,
                         self.reduction)
        return self.loss_weight * loss

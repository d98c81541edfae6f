"""``CRDConnector``: the embedding head of Tian et al., "Contrastive Representation
Distillation" (ICLR 2020)."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


@MODELS.register_module()
class CRDConnector(BaseConnector):
    """Flattens a feature, projects it linearly and L2-normalizes the result.

    Args:
        dim_in (int): The flattened feature's size. Defaults to 1024.
        dim_out (int): The embedding's size. Defaults to 128.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, dim_in: int = 1024, dim_out: int = 128,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.linear = nn.Linear(dim_in, dim_out)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return the unit-norm embedding, shape (N, dim_out)."""
        return F.normalize(self.linear(feature.flatten(1)), p=2, dim=1)

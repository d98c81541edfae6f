"""``OFDTeacherConnector``: the teacher's margin ReLU of Heo et al., "A Comprehensive
Overhaul of Feature Distillation" (ICCV 2019)."""
from typing import Dict, Optional

import torch

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


@MODELS.register_module()
class OFDTeacherConnector(BaseConnector):
    """``max(feature, margin)``, the margin ReLU applied to the teacher's pre-ReLU
    feature. The per-channel ``margin`` buffer, of shape (1, C, 1, 1), is set by
    ``OFDDistiller.init_ofd_connectors`` from the teacher BN feeding the feature.

    Args:
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.register_buffer('margin', None)

    def init_margin(self, margin: torch.Tensor) -> None:
        """Set the margin.

        Args:
            margin (torch.Tensor): The per-channel margin, shape (1, C, 1, 1).
        """
        self.margin = margin.detach().clone()

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return ``max(feature, margin)``."""
        if self.margin is None:
            raise RuntimeError('OFDTeacherConnector has no margin: call '
                               'OFDDistiller.init_ofd_connectors(teacher) first')
        return torch.max(feature, self.margin)

"""``NormConnector``: a normalization layer (mmcv ``build_norm_layer``)."""
from typing import Dict, Optional

import torch
from mmcv.cnn import build_norm_layer

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


@MODELS.register_module()
class NormConnector(BaseConnector):
    """Normalizes a feature, e.g. the BN before the channel-wise distillation of
    Shu et al., "Channel-wise Knowledge Distillation for Dense Prediction" (ICCV 2021).

    Args:
        in_channels (int): The feature's channels.
        norm_cfg (dict): The norm layer config, e.g. ``dict(type='BN')``.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, in_channels: int, norm_cfg: Dict,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        _, self.norm = build_norm_layer(norm_cfg, in_channels)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return the normalized ``feature``."""
        return self.norm(feature)

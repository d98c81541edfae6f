"""``MGDConnector``: the masked generation of Yang et al., "Masked Generative
Distillation" (ECCV 2022)."""
from typing import Dict, Optional

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .base_connector import BaseConnector


@MODELS.register_module()
class MGDConnector(BaseConnector):
    """Aligns the student feature to the teacher's channels (1x1 conv, only when
    they differ), zeroes a random ``lambda_mgd`` fraction of its pixels (or
    channels) and regenerates the teacher feature with conv3x3-ReLU-conv3x3.

    Args:
        student_channels (int): The student feature's channels.
        teacher_channels (int): The teacher feature's channels.
        lambda_mgd (float): The masked fraction, in [0, 1]. Defaults to 0.65.
        mask_on_channel (bool): Mask whole channels instead of pixels. Defaults to
            False.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, student_channels: int, teacher_channels: int,
                 lambda_mgd: float = 0.65, mask_on_channel: bool = False,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        if not 0 <= lambda_mgd <= 1:
            raise ValueError(f'MGDConnector: lambda_mgd is the masked fraction and must '
                             f'be in [0, 1], got {lambda_mgd}')
        self.lambda_mgd = lambda_mgd
        self.mask_on_channel = mask_on_channel
        self.align = None
        if student_channels != teacher_channels:
            self.align = nn.Conv2d(student_channels, teacher_channels, kernel_size=1)
        self.generation = nn.Sequential(
            nn.Conv2d(teacher_channels, teacher_channels, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(teacher_channels, teacher_channels, kernel_size=3, padding=1))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return the feature generated from the masked student feature, shape
        (N, teacher_channels, H, W)."""
        if self.align is not None:
            feature = self.align(feature)
        n, c, h, w = feature.shape
        mask_shape = (n, c, 1, 1) if self.mask_on_channel else (n, 1, h, w)
        keep = torch.rand(mask_shape, device=feature.device) <= 1 - self.lambda_mgd
        return self.generation(feature * keep.to(feature.dtype))

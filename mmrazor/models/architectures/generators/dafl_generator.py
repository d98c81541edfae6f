"""The generator of DAFL: Chen et al., "Data-Free Learning of Student Networks"
(ICCV 2019)."""
from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .base_generator import BaseGenerator


@MODELS.register_module()
class DAFLGenerator(BaseGenerator):
    """Linear -> BN -> upsample -> conv-BN-LeakyReLU -> upsample -> conv-BN-LeakyReLU
    -> conv -> tanh -> BN(affine=False).

    Args:
        img_size (int): The height and width of the images; divisible by
            ``scale_factor**2``.
        latent_dim (int): The length of a latent vector.
        hidden_channels (int): The channels after the linear layer; the last hidden
            block has half as many.
        scale_factor (int): The factor of each of the two upsamplings. Defaults to 2.
        bn_eps (float): ``eps`` of the BN layers of the conv blocks (the authors'
            0.8). Defaults to 0.8.
        leaky_slope (float): The negative slope of the LeakyReLUs. Defaults to 0.2.
        out_channels (int): The channels of the images (1 for grey images).
            Defaults to 3.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self,
                 img_size: int,
                 latent_dim: int,
                 hidden_channels: int,
                 scale_factor: int = 2,
                 bn_eps: float = 0.8,
                 leaky_slope: float = 0.2,
                 out_channels: int = 3,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(img_size, latent_dim, hidden_channels, init_cfg=init_cfg)
        self.init_size = self.check_img_size(scale_factor)
        self.scale_factor = scale_factor
        self.linear = nn.Linear(latent_dim, hidden_channels * self.init_size**2)
        self.bn1 = nn.BatchNorm2d(hidden_channels)
        self.conv_blocks1 = nn.Sequential(
            nn.Conv2d(hidden_channels, hidden_channels, 3, stride=1, padding=1),
            nn.BatchNorm2d(hidden_channels, eps=bn_eps),
            nn.LeakyReLU(leaky_slope, inplace=True))
        self.conv_blocks2 = nn.Sequential(
            nn.Conv2d(hidden_channels, hidden_channels // 2, 3, stride=1, padding=1),
            nn.BatchNorm2d(hidden_channels // 2, eps=bn_eps),
            nn.LeakyReLU(leaky_slope, inplace=True),
            nn.Conv2d(hidden_channels // 2, out_channels, 3, stride=1, padding=1),
            nn.Tanh(),
            nn.BatchNorm2d(out_channels, affine=False))

    def forward(self, data: Optional[torch.Tensor] = None,
                batch_size: int = 1) -> torch.Tensor:
        """Generate images of shape (N, out_channels, img_size, img_size).

        Args:
            data (torch.Tensor, optional): Latent vectors (N, latent_dim). Defaults
                to None: sample ``batch_size`` of them.
            batch_size (int): The number of images when ``data`` is None.
                Defaults to 1.

        Returns:
            torch.Tensor: The generated images.
        """
        latent = self.process_latent(data, batch_size)
        img = self.linear(latent).view(-1, self.hidden_channels, self.init_size,
                                       self.init_size)
        img = F.interpolate(self.bn1(img), scale_factor=self.scale_factor)
        img = F.interpolate(self.conv_blocks1(img), scale_factor=self.scale_factor)
        return self.conv_blocks2(img)

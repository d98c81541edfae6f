"""The generator of ZSKT: Micaelli and Storkey, "Zero-shot Knowledge Transfer via
Adversarial Belief Matching" (NeurIPS 2019)."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn

from mmrazor.registry import MODELS

from .base_generator import BaseGenerator


class View(nn.Module):
    """Reshape each sample of a batch to ``size``.

    Args:
        size (tuple): The shape of one sample.
    """

    def __init__(self, size: Tuple[int, ...]) -> None:
        super().__init__()
        self.size = size

    def forward(self, tensor: torch.Tensor) -> torch.Tensor:
        """Return ``tensor`` viewed as (N, *size)."""
        return tensor.view(-1, *self.size)


@MODELS.register_module()
class ZSKTGenerator(BaseGenerator):
    """Linear -> BN -> upsample -> conv-BN-LeakyReLU -> upsample -> conv-BN-LeakyReLU
    -> conv -> BN, as in the authors' code: the output BN (affine) replaces a tanh.

    Args:
        img_size (int): The height and width of the images; divisible by
            ``scale_factor**2``.
        latent_dim (int): The length of a latent vector.
        hidden_channels (int): The channels after the linear layer; the last hidden
            block has half as many.
        scale_factor (int): The factor of each of the two upsamplings. Defaults to 2.
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
                 leaky_slope: float = 0.2,
                 out_channels: int = 3,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(img_size, latent_dim, hidden_channels, init_cfg=init_cfg)
        self.init_size = self.check_img_size(scale_factor)
        self.scale_factor = scale_factor
        half = hidden_channels // 2
        self.layers = nn.Sequential(
            nn.Linear(latent_dim, hidden_channels * self.init_size**2),
            View((hidden_channels, self.init_size, self.init_size)),
            nn.BatchNorm2d(hidden_channels),
            nn.Upsample(scale_factor=scale_factor),
            nn.Conv2d(hidden_channels, hidden_channels, 3, stride=1, padding=1),
            nn.BatchNorm2d(hidden_channels),
            nn.LeakyReLU(leaky_slope, inplace=True),
            nn.Upsample(scale_factor=scale_factor),
            nn.Conv2d(hidden_channels, half, 3, stride=1, padding=1),
            nn.BatchNorm2d(half),
            nn.LeakyReLU(leaky_slope, inplace=True),
            nn.Conv2d(half, out_channels, 3, stride=1, padding=1),
            nn.BatchNorm2d(out_channels, affine=True))

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
        return self.layers(self.process_latent(data, batch_size))

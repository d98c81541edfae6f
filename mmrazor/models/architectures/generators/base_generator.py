"""``BaseGenerator``: the interface of the image generators of data-free distillation."""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule


class BaseGenerator(BaseModule):
    """Maps latent vectors to images; subclasses define the network and ``forward``.

    Args:
        img_size (int): The height and width of the generated images.
        latent_dim (int): The length of a latent vector.
        hidden_channels (int): The channels of the first feature map.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self,
                 img_size: int,
                 latent_dim: int,
                 hidden_channels: int,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.img_size = img_size
        self.latent_dim = latent_dim
        self.hidden_channels = hidden_channels

    @property
    def device(self) -> torch.device:
        """torch.device: Where the generator's parameters are."""
        return next(self.parameters()).device

    def process_latent(self,
                       latent_data: Optional[torch.Tensor] = None,
                       batch_size: int = 1) -> torch.Tensor:
        """Return a batch of latent vectors on the generator's device.

        Args:
            latent_data (torch.Tensor, optional): Latent vectors of shape
                (N, latent_dim). Defaults to None: sample ``batch_size`` vectors
                from the standard normal distribution.
            batch_size (int): The number of vectors to sample when
                ``latent_data`` is None. Defaults to 1.

        Returns:
            torch.Tensor: The latent vectors, of shape (N, latent_dim).
        """
        if latent_data is None:
            if batch_size < 1:
                raise ValueError(f'{type(self).__name__}: batch_size must be at least '
                                 f'1, got {batch_size}')
            return torch.randn(batch_size, self.latent_dim, device=self.device)
        if not isinstance(latent_data, torch.Tensor):
            raise TypeError(f'{type(self).__name__}: latent_data must be a tensor or '
                            f'None, got {type(latent_data).__name__}')
        if latent_data.dim() != 2 or latent_data.shape[1] != self.latent_dim:
            raise ValueError(f'{type(self).__name__}: latent_data must have shape '
                             f'(N, {self.latent_dim}) (N, latent_dim), got '
                             f'{tuple(latent_data.shape)}')
        return latent_data.to(self.device)

    def check_img_size(self, scale_factor: int) -> int:
        """Return the side of the first feature map, ``img_size // scale_factor**2``.

        Args:
            scale_factor (int): The factor of each of the two upsamplings.

        Returns:
            int: The side of the feature map the latent vector is reshaped to.
        """
        if scale_factor < 1 or self.img_size % (scale_factor**2) != 0:
            raise ValueError(f'{type(self).__name__}: img_size ({self.img_size}) must '
                             f'be divisible by scale_factor**2 ({scale_factor}**2), '
                             'since the generator upsamples twice by scale_factor')
        return self.img_size // scale_factor**2

"""``InputResizer``: resizes a batch of images to a fixed shape."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area')


class InputResizer(nn.Module):
    """Resize ``(N, C, H, W)`` inputs to ``shape`` (no-op when ``shape`` is None).

    Args:
        shape (Sequence[int], optional): ``(H, W)`` of the output. Defaults to None.
        interpolation_type (str): One of 'nearest', 'bilinear', 'bicubic', 'area'.
            Defaults to 'bicubic'.
        align_corners (bool): See ``F.interpolate``. Defaults to False.
        scale_factor (float, optional): See ``F.interpolate``, used when ``shape`` is
            None. Defaults to None.
    """

    def __init__(self, shape: Optional[Sequence[int]] = None,
                 interpolation_type: str = 'bicubic', align_corners: bool = False,
                 scale_factor: Optional[float] = None) -> None:
        super().__init__()
        if interpolation_type not in INTERPOLATIONS:
            raise ValueError(f'interpolation_type must be one of {INTERPOLATIONS}, got '
                             f'{interpolation_type!r}')
        self.shape = None if shape is None else list(shape)
        self.interpolation_type = interpolation_type
        self.align_corners = align_corners
        self.scale_factor = scale_factor

    def forward(self, x: torch.Tensor, shape: Optional[Sequence[int]] = None) -> torch.Tensor:
        shape = self.shape if shape is None else shape
        if shape is None and self.scale_factor is None:
            return x
        if shape is not None and list(x.shape[-2:]) == list(shape):
            return x
        corners = None if self.interpolation_type in ('nearest', 'area') \
            else self.align_corners
        return F.interpolate(x, size=None if shape is None else tuple(shape),
                             scale_factor=None if shape is not None else self.scale_factor,
                             mode=self.interpolation_type, align_corners=corners)

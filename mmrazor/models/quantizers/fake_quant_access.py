"""Read what a fake-quant module (torch's, ours, LSQ's) applies, for conversion."""
from typing import Tuple

import torch
import torch.nn as nn

from .qat_modules import SharedFakeQuantize

_PER_CHANNEL = (torch.per_channel_affine, torch.per_channel_symmetric,
                torch.per_channel_affine_float_qparams)


def is_fake_quant(module: nn.Module) -> bool:
    """Whether ``module`` is a fake-quant (anything with qparams and a quant range)."""
    return isinstance(module, SharedFakeQuantize) or all(
        hasattr(module, name) for name in ('scale', 'zero_point', 'quant_min', 'quant_max'))


def is_per_channel(fake_quant: nn.Module) -> bool:
    """Whether ``fake_quant`` quantizes per channel."""
    return getattr(fake_quant, 'qscheme', None) in _PER_CHANNEL or bool(
        getattr(fake_quant, 'is_per_channel', False))


def qparams(fake_quant: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(scale, zero_point)`` as float32 / int32 tensors (1-d when per channel)."""
    scale = fake_quant.scale.detach().float().reshape(-1)
    zero_point = fake_quant.zero_point.detach().round().int().reshape(-1)
    if not is_per_channel(fake_quant):
        scale, zero_point = scale[:1], zero_point[:1]
    return scale, zero_point


def quant_dtype(fake_quant: nn.Module) -> torch.dtype:
    """The int8 dtype the fake-quant stands for (from its range when it has none)."""
    dtype = getattr(fake_quant, 'dtype', None)
    if dtype in (torch.quint8, torch.qint8):
        return dtype
    return torch.qint8 if fake_quant.quant_min < 0 else torch.quint8


def per_tensor_scalars(fake_quant: nn.Module) -> Tuple[float, int]:
    """``(scale, zero_point)`` of a per-tensor fake-quant as Python numbers."""
    scale, zero_point = qparams(fake_quant)
    return float(scale[0]), int(zero_point[0])

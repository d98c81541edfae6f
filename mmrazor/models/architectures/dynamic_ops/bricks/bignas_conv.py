"""Convs with a searchable kernel size: ``BigNasConv2d`` (centre crop of the largest
kernel) and ``OFAConv2d`` (centre crop followed by learnt kernel transforms)."""
from typing import List, Optional, Tuple, Type

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .dynamic_conv import DynamicConvMixin


def crop_kernel(weight: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """The centre ``kernel_size x kernel_size`` part of a conv weight."""
    full = weight.shape[-1]
    start = (full - kernel_size) // 2
    end = start + kernel_size
    return weight[..., start:end, start:end]


class BigNasConvMixin(DynamicConvMixin):
    """Channels and kernel size of a conv; a smaller kernel is the centre of the
    largest one (BigNAS, Yu et al. 2020), padded to keep the output size."""

    accepted_mutable_attrs = {'in_channels', 'out_channels', 'kernel_size'}

    @property
    def mutable_kernel_size(self) -> Optional[nn.Module]:
        """The mutable of the kernel size, or None."""
        return self.get_mutable_attr('kernel_size')

    def _check_mutable_attr(self, name: str, mutable: nn.Module) -> None:
        super()._check_mutable_attr(name, mutable)
        if name != 'kernel_size':
            return
        if self.kernel_size[0] != self.kernel_size[1]:
            raise ValueError(f'{type(self).__name__}: a searchable kernel size needs a '
                             f'square kernel, got {tuple(self.kernel_size)}')
        bad = [k for k in mutable.choices
               if not isinstance(k, int) or k % 2 == 0 or not 0 < k <= self.kernel_size[0]]
        if bad:
            raise ValueError(f'{type(self).__name__}: kernel size choices must be odd ints '
                             f'up to the built kernel {self.kernel_size[0]}; got {bad}')

    @property
    def current_kernel_size(self) -> int:
        """The kernel size the forward uses now."""
        mutable = self.mutable_kernel_size
        return self.kernel_size[0] if mutable is None else int(mutable.current_choice)

    @property
    def current_padding(self) -> Tuple[int, int]:
        """'Same' padding of the current kernel (the built padding at full size)."""
        kernel = self.current_kernel_size
        if kernel == self.kernel_size[0]:
            return tuple(self.padding)
        return tuple((kernel - 1) // 2 * d for d in self.dilation)

    def kernel_weight(self, weight: torch.Tensor) -> torch.Tensor:
        """The weight at the current kernel size."""
        kernel = self.current_kernel_size
        return weight if kernel == weight.shape[-1] else crop_kernel(weight, kernel)

    def active_conv_params(self) -> Tuple[torch.Tensor, Optional[torch.Tensor], int]:
        weight, bias, groups = super().active_conv_params()
        return self.kernel_weight(weight), bias, groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias, groups = self.active_conv_params()
        if self.padding_mode != 'zeros':
            raise NotImplementedError(f'{type(self).__name__} supports zero padding only')
        return F.conv2d(x, weight, bias, self.stride, self.current_padding, self.dilation,
                        groups)

    def _static_kwargs(self, weight: torch.Tensor, bias: Optional[torch.Tensor],
                       groups: int) -> dict:
        kwargs = super()._static_kwargs(weight, bias, groups)
        kwargs.update(kernel_size=tuple(weight.shape[-2:]), padding=self.current_padding)
        return kwargs


@MODELS.register_module()
class BigNasConv2d(nn.Conv2d, BigNasConvMixin):
    """An ``nn.Conv2d`` whose channels and (square, odd) kernel size follow mutables;
    a smaller kernel is the centre crop of the built one.

    Examples:
        >>> conv = BigNasConv2d(8, 8, 5, padding=2)
        >>> conv.register_mutable_attr('kernel_size', OneShotMutableValue([3, 5]))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.Conv2d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return BigNasConvMixin.forward(self, x)


def _transform_name(large: int, small: int) -> str:
    return f'trans_matrix_{large}to{small}'


class OFAConvMixin(BigNasConvMixin):
    """Kernel sizes as in Once-for-All (Cai et al. 2020): a smaller kernel is the
    centre of the next larger one multiplied by a learnt ``k^2 x k^2`` matrix, so each
    size gets its own weights while sharing the large kernel.

    The transform matrices are created when a kernel-size mutable is registered
    (one per pair of consecutive choices, initialised to the identity).
    """

    _kernel_sizes: List[int]  # the built size, then the smaller choices, descending

    def register_mutable_attr(self, attr: str, mutable: nn.Module) -> None:
        super().register_mutable_attr(attr, mutable)
        if self._map_attr(attr) == 'kernel_size':
            self._make_transforms(sorted(mutable.choices, reverse=True))

    def _make_transforms(self, sizes: List[int]) -> None:
        if sizes[0] != self.kernel_size[0]:
            sizes = [self.kernel_size[0]] + sizes
        self._kernel_sizes = sizes
        for large, small in zip(sizes[:-1], sizes[1:]):
            name = _transform_name(large, small)
            if not hasattr(self, name):
                eye = torch.eye(small * small, device=self.weight.device,
                                dtype=self.weight.dtype)
                self.register_parameter(name, nn.Parameter(eye))

    def kernel_weight(self, weight: torch.Tensor) -> torch.Tensor:
        target = self.current_kernel_size
        for large, small in zip(self._kernel_sizes[:-1], self._kernel_sizes[1:]):
            if large <= target:
                break
            cropped = crop_kernel(weight, small)
            matrix = getattr(self, _transform_name(large, small))
            flat = cropped.reshape(-1, small * small)
            weight = F.linear(flat, matrix).reshape(cropped.shape)
        return weight


@MODELS.register_module()
class OFAConv2d(nn.Conv2d, OFAConvMixin):
    """An ``nn.Conv2d`` whose channels and kernel size follow mutables, smaller
    kernels made by OFA's learnt kernel transforms (``trans_matrix_<k>to<k'>``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()
        self._kernel_sizes = [self.kernel_size[0]]

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.Conv2d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return OFAConvMixin.forward(self, x)

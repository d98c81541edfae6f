"""Counters of layers that compute nothing at inference: known, and zero.

Registering them keeps the "no counter for this layer type" warning for layers that
really are unknown.
"""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost


class ZeroCostCounter(BaseCounter):
    """Layers that only pass data through (identity, dropout at eval, reshapes)."""

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        return Cost(0, 0)


@TASK_UTILS.register_module()
class IdentityCounter(ZeroCostCounter):
    """``nn.Identity``."""
    module_type = nn.Identity


@TASK_UTILS.register_module()
class DropoutCounter(ZeroCostCounter):
    """``nn.Dropout`` and its 1d/2d/3d/alpha variants (identity at inference)."""
    module_type = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                   nn.FeatureAlphaDropout)


@TASK_UTILS.register_module()
class _DropoutNdCounter(DropoutCounter):
    """torch's dropout base class, which every dropout variant inherits."""


@TASK_UTILS.register_module()
class FlattenCounter(ZeroCostCounter):
    """``nn.Flatten``."""
    module_type = nn.Flatten


@TASK_UTILS.register_module()
class UnflattenCounter(ZeroCostCounter):
    """``nn.Unflatten``."""
    module_type = nn.Unflatten


@TASK_UTILS.register_module()
class DropPathCounter(ZeroCostCounter):
    """mmcv's and timm's ``DropPath`` (stochastic depth; identity at inference)."""


@TASK_UTILS.register_module()
class AdaptivePaddingCounter(ZeroCostCounter):
    """mmcv's ``AdaptivePadding`` in patch embeddings (zero padding)."""


@TASK_UTILS.register_module()
class PermuteCounter(ZeroCostCounter):
    """torchvision's ``Permute`` (Swin, ConvNeXt): a view, no arithmetic."""


@TASK_UTILS.register_module()
class StochasticDepthCounter(ZeroCostCounter):
    """torchvision's ``StochasticDepth`` (identity at inference)."""


@TASK_UTILS.register_module()
class UnfoldCounter(ZeroCostCounter):
    """``nn.Unfold`` (Swin's patch merging): gathers patches, no arithmetic."""
    module_type = nn.Unfold

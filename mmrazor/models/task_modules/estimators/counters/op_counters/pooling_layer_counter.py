"""Counters of pooling layers: one FLOP per input element, as MMRazor 1.x counts."""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, first_tensor


class PoolCounter(BaseCounter):
    """Pooling: every input element is read and combined once."""

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        return Cost(0, first_tensor(inputs, kwargs).numel())


@TASK_UTILS.register_module()
class MaxPool1dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.MaxPool1d``."""
    module_type = nn.MaxPool1d


@TASK_UTILS.register_module()
class MaxPool2dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.MaxPool2d``."""
    module_type = nn.MaxPool2d


@TASK_UTILS.register_module()
class MaxPool3dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.MaxPool3d``."""
    module_type = nn.MaxPool3d


@TASK_UTILS.register_module()
class AvgPool1dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AvgPool1d``."""
    module_type = nn.AvgPool1d


@TASK_UTILS.register_module()
class AvgPool2dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AvgPool2d``."""
    module_type = nn.AvgPool2d


@TASK_UTILS.register_module()
class AvgPool3dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AvgPool3d``."""
    module_type = nn.AvgPool3d


@TASK_UTILS.register_module()
class AdaptiveMaxPool1dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AdaptiveMaxPool1d``."""
    module_type = nn.AdaptiveMaxPool1d


@TASK_UTILS.register_module()
class AdaptiveMaxPool2dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AdaptiveMaxPool2d``."""
    module_type = nn.AdaptiveMaxPool2d


@TASK_UTILS.register_module()
class AdaptiveMaxPool3dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AdaptiveMaxPool3d``."""
    module_type = nn.AdaptiveMaxPool3d


@TASK_UTILS.register_module()
class AdaptiveAvgPool1dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AdaptiveAvgPool1d``."""
    module_type = nn.AdaptiveAvgPool1d


@TASK_UTILS.register_module()
class AdaptiveAvgPool2dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AdaptiveAvgPool2d``."""
    module_type = nn.AdaptiveAvgPool2d


@TASK_UTILS.register_module()
class AdaptiveAvgPool3dCounter(PoolCounter):
    """FLOPs/params counter for ``nn.AdaptiveAvgPool3d``."""
    module_type = nn.AdaptiveAvgPool3d

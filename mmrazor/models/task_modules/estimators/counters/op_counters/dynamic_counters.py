"""Counters named after MMRazor 1.x's dynamic-op counters.

Dynamic ops expose ``active_parameters()``, so the conv and linear counting applies
unchanged; these classes give the names configs refer to (``disabled_counters``).
"""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .conv_layer_counter import ConvCounter
from .linear_layer_counter import LinearCounter


@TASK_UTILS.register_module()
class DynamicConv2dCounter(ConvCounter):
    """FLOPs/params counter for ``DynamicConv2d``, at its current width."""
    module_type = nn.Conv2d


@TASK_UTILS.register_module()
class DynamicLinearCounter(LinearCounter):
    """FLOPs/params counter for ``DynamicLinear``, at its current width."""
    module_type = nn.Linear

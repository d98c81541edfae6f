"""Counters named after MMRazor 1.x's Group Fisher op counters.

``GroupFisherConv2d``/``GroupFisherLinear`` are dynamic ops, counted at their current
width like any dynamic conv/linear; these classes give the names configs refer to.
"""
from mmrazor.registry import TASK_UTILS

from .dynamic_counters import DynamicConv2dCounter, DynamicLinearCounter


@TASK_UTILS.register_module()
class GroupFisherConv2dCounter(DynamicConv2dCounter):
    """FLOPs/params counter for ``GroupFisherConv2d``, at its current width."""


@TASK_UTILS.register_module()
class GroupFisherLinearCounter(DynamicLinearCounter):
    """FLOPs/params counter for ``GroupFisherLinear``, at its current width."""

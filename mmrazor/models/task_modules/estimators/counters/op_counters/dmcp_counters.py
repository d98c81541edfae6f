"""``DMCPBatchNorm2dCounter``: MMRazor 1.x's counter name for DMCP's batch norm."""
from mmrazor.models.architectures.dynamic_ops import DMCPBatchNorm2d
from mmrazor.registry import TASK_UTILS

from .norm_layer_counter import NormCounter


@TASK_UTILS.register_module()
class DMCPBatchNorm2dCounter(NormCounter):
    """FLOPs/params counter for ``DMCPBatchNorm2d``, at its current width (its input
    holds only the kept channels)."""
    module_type = DMCPBatchNorm2d

"""Counters of normalization layers: one FLOP per element, two with an affine."""
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.instancenorm import _InstanceNorm

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, first_tensor


class NormCounter(BaseCounter):
    """Norms: normalizing is one FLOP per element, the affine transform one more."""

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        elements = first_tensor(inputs, kwargs).numel()
        affine = getattr(module, 'affine', getattr(module, 'elementwise_affine', False))
        return Cost(0, elements * (2 if affine else 1))


@TASK_UTILS.register_module()
class BatchNorm1dCounter(NormCounter):
    """FLOPs/params counter for ``nn.BatchNorm1d``."""
    module_type = nn.BatchNorm1d


@TASK_UTILS.register_module()
class BatchNorm2dCounter(NormCounter):
    """FLOPs/params counter for ``nn.BatchNorm2d``."""
    module_type = nn.BatchNorm2d


@TASK_UTILS.register_module()
class BatchNorm3dCounter(NormCounter):
    """FLOPs/params counter for ``nn.BatchNorm3d``."""
    module_type = nn.BatchNorm3d


@TASK_UTILS.register_module()
class SyncBatchNormCounter(NormCounter):
    """FLOPs/params counter for ``nn.SyncBatchNorm``."""
    module_type = nn.SyncBatchNorm


@TASK_UTILS.register_module()
class _BatchNormCounter(NormCounter):
    """Any other subclass of torch's batch-norm base."""
    module_type = _BatchNorm


@TASK_UTILS.register_module()
class InstanceNorm1dCounter(NormCounter):
    """FLOPs/params counter for ``nn.InstanceNorm1d``."""
    module_type = nn.InstanceNorm1d


@TASK_UTILS.register_module()
class InstanceNorm2dCounter(NormCounter):
    """FLOPs/params counter for ``nn.InstanceNorm2d``."""
    module_type = nn.InstanceNorm2d


@TASK_UTILS.register_module()
class InstanceNorm3dCounter(NormCounter):
    """FLOPs/params counter for ``nn.InstanceNorm3d``."""
    module_type = nn.InstanceNorm3d


@TASK_UTILS.register_module()
class _InstanceNormCounter(NormCounter):
    """Any other subclass of torch's instance-norm base."""
    module_type = _InstanceNorm


@TASK_UTILS.register_module()
class LayerNormCounter(NormCounter):
    """FLOPs/params counter for ``nn.LayerNorm``."""
    module_type = nn.LayerNorm


@TASK_UTILS.register_module()
class GroupNormCounter(NormCounter):
    """FLOPs/params counter for ``nn.GroupNorm``."""
    module_type = nn.GroupNorm

"""Counters of convolutions: MACs from the output size and the active kernel."""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, active_parameters, output_tensor


class ConvCounter(BaseCounter):
    """Conv layers: each output element takes ``in_channels / groups * kernel`` MACs.

    The kernel is the module's active weight, so a conv that uses only some of its
    channels counts those; the bias adds one element-wise FLOP per output element.
    """

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        out = output_tensor(output)
        params = active_parameters(module)
        weight = params['weight']
        macs = out.numel() * weight[0].numel()
        bias = out.numel() if params.get('bias') is not None else 0
        return Cost(macs, bias)


@TASK_UTILS.register_module()
class Conv1dCounter(ConvCounter):
    """FLOPs/params counter for ``nn.Conv1d``."""
    module_type = nn.Conv1d


@TASK_UTILS.register_module()
class Conv2dCounter(ConvCounter):
    """FLOPs/params counter for ``nn.Conv2d`` (and its subclasses, e.g. mmcv's)."""
    module_type = nn.Conv2d


@TASK_UTILS.register_module()
class Conv3dCounter(ConvCounter):
    """FLOPs/params counter for ``nn.Conv3d``."""
    module_type = nn.Conv3d

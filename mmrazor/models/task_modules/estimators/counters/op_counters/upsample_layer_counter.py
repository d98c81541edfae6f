"""Counter of upsampling layers."""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, output_tensor


@TASK_UTILS.register_module()
class UpsampleCounter(BaseCounter):
    """``nn.Upsample`` (and ``UpsamplingNearest2d``/``Bilinear2d``): one FLOP per output
    element."""
    module_type = nn.Upsample

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        return Cost(0, output_tensor(output).numel())

"""Counter of linear layers."""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, first_tensor, output_tensor


@TASK_UTILS.register_module()
class LinearCounter(BaseCounter):
    """``nn.Linear``: ``in_features * out_features`` MACs per row.

    Counted from the input and output widths, so a narrowed linear counts its current
    width. The bias is not counted, as in MMRazor 1.x.
    """
    module_type = nn.Linear

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        x = first_tensor(inputs, kwargs)
        return Cost(x.numel() * output_tensor(output).shape[-1], 0)

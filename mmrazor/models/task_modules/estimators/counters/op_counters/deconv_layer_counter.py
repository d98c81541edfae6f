"""Counters of transposed convolutions: MACs from the input size and the kernel."""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, active_parameters, first_tensor, output_tensor


class ConvTransposeCounter(BaseCounter):
    """Transposed convs: each input element is spread over ``out / groups * kernel``."""

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        x = first_tensor(inputs, kwargs)
        params = active_parameters(module)
        macs = x.numel() * params['weight'][0].numel()
        bias = output_tensor(output).numel() if params.get('bias') is not None else 0
        return Cost(macs, bias)


@TASK_UTILS.register_module()
class ConvTranspose1dCounter(ConvTransposeCounter):
    """FLOPs/params counter for ``nn.ConvTranspose1d``."""
    module_type = nn.ConvTranspose1d


@TASK_UTILS.register_module()
class ConvTranspose2dCounter(ConvTransposeCounter):
    """FLOPs/params counter for ``nn.ConvTranspose2d``."""
    module_type = nn.ConvTranspose2d


@TASK_UTILS.register_module()
class ConvTranspose3dCounter(ConvTransposeCounter):
    """FLOPs/params counter for ``nn.ConvTranspose3d``."""
    module_type = nn.ConvTranspose3d

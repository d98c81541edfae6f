"""Counters of activations: one FLOP per output element.

The mmcv and mmpretrain layers are matched by class name, as those packages are optional.

MMRazor 1.x had counters for ReLU, PReLU, ELU, LeakyReLU and ReLU6; the others that
modern backbones use (GELU in ViT/Swin, SiLU/Hardswish in MobileNetV3, mmcv's HSwish)
are counted the same way instead of being left out.
"""
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, output_tensor


class ActivationCounter(BaseCounter):
    """Element-wise layers: one FLOP per output element."""

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        return Cost(0, output_tensor(output).numel())


@TASK_UTILS.register_module()
class ReLUCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.ReLU``."""
    module_type = nn.ReLU


@TASK_UTILS.register_module()
class PReLUCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.PReLU``."""
    module_type = nn.PReLU


@TASK_UTILS.register_module()
class ELUCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.ELU``."""
    module_type = nn.ELU


@TASK_UTILS.register_module()
class LeakyReLUCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.LeakyReLU``."""
    module_type = nn.LeakyReLU


@TASK_UTILS.register_module()
class ReLU6Counter(ActivationCounter):
    """FLOPs/params counter for ``nn.ReLU6``."""
    module_type = nn.ReLU6


@TASK_UTILS.register_module()
class GELUCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.GELU``."""
    module_type = nn.GELU


@TASK_UTILS.register_module()
class SiLUCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.SiLU``."""
    module_type = nn.SiLU


@TASK_UTILS.register_module()
class SigmoidCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Sigmoid``."""
    module_type = nn.Sigmoid


@TASK_UTILS.register_module()
class TanhCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Tanh``."""
    module_type = nn.Tanh


@TASK_UTILS.register_module()
class HardswishCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Hardswish``."""
    module_type = nn.Hardswish


@TASK_UTILS.register_module()
class HardsigmoidCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Hardsigmoid``."""
    module_type = nn.Hardsigmoid


@TASK_UTILS.register_module()
class MishCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Mish``."""
    module_type = nn.Mish


@TASK_UTILS.register_module()
class SoftplusCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Softplus``."""
    module_type = nn.Softplus


@TASK_UTILS.register_module()
class SoftmaxCounter(ActivationCounter):
    """FLOPs/params counter for ``nn.Softmax``."""
    module_type = nn.Softmax


@TASK_UTILS.register_module()
class HSwishCounter(ActivationCounter):
    """FLOPs/params counter for mmcv's ``HSwish`` (matched by name: mmcv is optional)."""


@TASK_UTILS.register_module()
class HSigmoidCounter(ActivationCounter):
    """FLOPs/params counter for mmcv's ``HSigmoid`` (matched by name: mmcv is optional)."""


@TASK_UTILS.register_module()
class SwishCounter(ActivationCounter):
    """FLOPs/params counter for mmcv's ``Swish`` (matched by name: mmcv is optional)."""


@TASK_UTILS.register_module()
class ScaleCounter(ActivationCounter):
    """FLOPs/params counter for mmcv's ``Scale`` (matched by name: mmcv is optional)."""


@TASK_UTILS.register_module()
class LayerScaleCounter(ActivationCounter):
    """FLOPs/params counter for mmpretrain's ``LayerScale`` (matched by name)."""

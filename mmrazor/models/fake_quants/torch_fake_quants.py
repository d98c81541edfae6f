"""Register every fake-quant class of ``torch.ao.quantization.fake_quantize`` in MODELS.

Configs name them as MMRazor 1.x does, e.g. ``dict(type='mmrazor.FakeQuantize')``.
"""
from typing import List

import torch.ao.quantization.fake_quantize as torch_fake_quantize

from mmrazor.models.observers.torch_observers import register_torch_classes


def register_torch_fake_quants() -> List[str]:
    """Register torch's fake-quants (FakeQuantize, FixedQParamsFakeQuantize, ...) in MODELS.

    Returns:
        List[str]: The names of the registered fake-quants.
    """
    return register_torch_classes(torch_fake_quantize, torch_fake_quantize.FakeQuantizeBase)


TORCH_FAKE_QUANTS = register_torch_fake_quants()

"""``TensorRTQuantizer``: symmetric int8 weights and activations (explicit QDQ)."""
from typing import Tuple

from mmrazor.registry import MODELS

from .native_quantizer import TorchNativeQuantizer


@MODELS.register_module()
class TensorRTQuantizer(TorchNativeQuantizer):
    """Quantize for TensorRT's explicit-quantization mode.

    TensorRT runs symmetric signed int8 only (activations and weights); its QDQ ONNX
    file is the deploy artifact (:meth:`export_onnx`). torch's x86 kernels take
    unsigned activations, so :meth:`convert_to_int8` refuses qint8 activation configs.
    """

    backend = 'tensorrt'
    support_w_modes: Tuple[str, ...] = ('per_tensor_symmetric', 'per_channel_symmetric')
    support_a_modes: Tuple[str, ...] = ('per_tensor_symmetric', )
    module_prev_wo_fakequant: Tuple = ('torch.nn.modules.activation.ReLU6',
                                       'torch.nn.modules.linear.Identity')

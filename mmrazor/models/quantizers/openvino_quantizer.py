"""``OpenVINOQuantizer``: symmetric weights, a QDQ ONNX that OpenVINO runs in int8."""
from typing import Tuple

from mmrazor.registry import MODELS

from .native_quantizer import TorchNativeQuantizer


@MODELS.register_module()
class OpenVINOQuantizer(TorchNativeQuantizer):
    """Quantize for OpenVINO (MMRazor 1.x's default PTQ / QAT backend).

    OpenVINO runs symmetric int8 weights and symmetric or affine uint8 activations;
    like MMRazor, no fake-quant is put after max pooling (it does not change values)
    or in front of ``ReLU6`` / ``Identity``. The same graph lowers to torch's x86
    kernels (:meth:`convert_to_int8`) and exports as QDQ ONNX (:meth:`export_onnx`).
    """

    backend = 'openvino'
    support_w_modes: Tuple[str, ...] = ('per_tensor_symmetric', 'per_channel_symmetric')
    support_a_modes: Tuple[str, ...] = ('per_tensor_affine', 'per_tensor_symmetric')
    module_prev_wo_fakequant: Tuple = ('torch.nn.modules.activation.ReLU6',
                                       'torch.nn.modules.linear.Identity')

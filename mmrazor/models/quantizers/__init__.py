"""Quantizers: trace a model, fake-quantize it, and convert it for deployment."""
from mmrazor.structures.quantization.policy import QuantizationPolicy

from .academic_quantizer import AcademicQuantizer
from .base import BaseQuantizer
from .lowering import Int8LoweringError, lower_to_int8
from .native_quantizer import TorchNativeQuantizer
from .openvino_quantizer import OpenVINOQuantizer
from .prepare import GraphQuantizer
from .qat_modules import QConv2d, QConvBn2d, QLinear, SharedFakeQuantize, freeze_bn_stats
from .tensorrt_quantizer import TensorRTQuantizer

__all__ = [
    'AcademicQuantizer', 'BaseQuantizer', 'Int8LoweringError', 'lower_to_int8',
    'TorchNativeQuantizer', 'OpenVINOQuantizer', 'QuantizationPolicy', 'GraphQuantizer',
    'QConv2d', 'QConvBn2d', 'QLinear', 'SharedFakeQuantize', 'TensorRTQuantizer', 'freeze_bn_stats'
]

"""MMRazor 1.x's ``get_*_backend_config[_dict]`` and ``BackendConfigs``.

Each backend's config is built from the default :class:`QuantizationPolicy` (what our
quantizers quantize) with that backend's int8 dtypes; a quantizer's own
``backend_config`` also reflects its settings (``no_observer_modules``).
"""
from typing import Any, Dict

from torch.ao.quantization.backend_config import BackendConfig

from .builder import build_backend_config


def get_native_backend_config() -> BackendConfig:
    """torch's x86 / fbgemm kernels: quint8 activations, qint8 weights."""
    return build_backend_config('native')


def get_openvino_backend_config() -> BackendConfig:
    """OpenVINO: quint8 activations, qint8 (symmetric) weights."""
    return build_backend_config('openvino')


def get_tensorrt_backend_config() -> BackendConfig:
    """TensorRT explicit quantization: qint8 activations and weights."""
    return build_backend_config('tensorrt')


def get_academic_backend_config() -> BackendConfig:
    """Research: signed or unsigned activations and weights."""
    return build_backend_config('academic')


def get_native_backend_config_dict() -> Dict[str, Any]:
    """:func:`get_native_backend_config` as a dict."""
    return get_native_backend_config().to_dict()


def get_openvino_backend_config_dict() -> Dict[str, Any]:
    """:func:`get_openvino_backend_config` as a dict."""
    return get_openvino_backend_config().to_dict()


def get_tensorrt_backend_config_dict() -> Dict[str, Any]:
    """:func:`get_tensorrt_backend_config` as a dict."""
    return get_tensorrt_backend_config().to_dict()


def get_academic_backend_config_dict() -> Dict[str, Any]:
    """:func:`get_academic_backend_config` as a dict."""
    return get_academic_backend_config().to_dict()


BackendConfigs: Dict[str, BackendConfig] = {
    'academic': get_academic_backend_config(),
    'native': get_native_backend_config(),
    'tensorrt': get_tensorrt_backend_config(),
    'openvino': get_openvino_backend_config(),
}

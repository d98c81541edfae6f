"""Quantization structures: qscheme and qconfig handlers, policies, backend configs."""
from .backend_config import (
                             BackendConfigs,
                             build_backend_config,
                             get_academic_backend_config,
                             get_academic_backend_config_dict,
                             get_native_backend_config,
                             get_native_backend_config_dict,
                             get_openvino_backend_config,
                             get_openvino_backend_config_dict,
                             get_tensorrt_backend_config,
                             get_tensorrt_backend_config_dict,
)
from .policy import QuantizationPolicy
from .qconfig import QConfigHandler
from .qscheme import QSchemeHandler

__all__ = [
    'BackendConfigs', 'build_backend_config', 'get_academic_backend_config',
    'get_academic_backend_config_dict', 'get_native_backend_config',
    'get_native_backend_config_dict', 'get_openvino_backend_config',
    'get_openvino_backend_config_dict', 'get_tensorrt_backend_config',
    'get_tensorrt_backend_config_dict', 'QConfigHandler', 'QSchemeHandler',
    'QuantizationPolicy'
]

"""torch.ao ``BackendConfig`` views of what each quantization backend quantizes."""
from .backends import (
                       BackendConfigs,
                       get_academic_backend_config,
                       get_academic_backend_config_dict,
                       get_native_backend_config,
                       get_native_backend_config_dict,
                       get_openvino_backend_config,
                       get_openvino_backend_config_dict,
                       get_tensorrt_backend_config,
                       get_tensorrt_backend_config_dict,
)
from .builder import BACKEND_DTYPES, build_backend_config

__all__ = [
    'BackendConfigs', 'BACKEND_DTYPES', 'build_backend_config', 'get_academic_backend_config',
    'get_academic_backend_config_dict', 'get_native_backend_config',
    'get_native_backend_config_dict', 'get_openvino_backend_config',
    'get_openvino_backend_config_dict', 'get_tensorrt_backend_config',
    'get_tensorrt_backend_config_dict'
]

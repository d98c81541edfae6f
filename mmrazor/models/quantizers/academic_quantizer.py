"""``AcademicQuantizer``: per-module qconfigs for research (any bit width, any mode)."""
from typing import Any, Dict, List, Optional, Tuple

import torch.fx as fx
import torch.nn as nn

from mmrazor.registry import MODELS
from mmrazor.structures.quantization import QConfigHandler
from mmrazor.utils.lookup import import_object

from .native_quantizer import TorchNativeQuantizer


@MODELS.register_module()
class AcademicQuantizer(TorchNativeQuantizer):
    """Quantize with a ``qconfig_mapping``: a global qconfig and overrides.

    Args:
        qconfig_mapping (dict): ``global_qconfig`` (required), ``object_type``
            (list of ``(class or dotted path, qconfig or None)``) and ``module_name``
            (list of ``(name, qconfig or None)``); a module name wins over a type, a
            type over the global; ``None`` keeps those ops float.
        tracer (dict): The tracer config. Defaults to ``dict(type='mmrazor.CustomTracer')``.
        prepare_custom_config (dict, optional): Accepted for MMRazor configs; its
            ``preserved_attributes`` are kept by construction here. Defaults to None.
        init_cfg (dict, optional): Defaults to None.
    """

    backend = 'academic'
    support_w_modes = ('per_tensor_symmetric', 'per_channel_symmetric', 'per_tensor_affine',
                       'per_channel_affine')
    support_a_modes = ('per_tensor_symmetric', 'per_tensor_affine')

    def __init__(self,
                 qconfig_mapping: Dict,
                 tracer: Dict = dict(type='mmrazor.CustomTracer'),  # noqa: B006
                 prepare_custom_config: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        unknown = set(qconfig_mapping) - {'global_qconfig', 'object_type', 'module_name'}
        if unknown or 'global_qconfig' not in qconfig_mapping:
            raise KeyError('qconfig_mapping takes global_qconfig (required), object_type and '
                           f'module_name; got {sorted(qconfig_mapping)}')
        super().__init__(qconfig_mapping['global_qconfig'], tracer=tracer, init_cfg=init_cfg)
        self.prepare_custom_config = dict(prepare_custom_config or {})
        self.object_type: List[Tuple[type, Optional[QConfigHandler]]] = [
            (_as_type(cls), _handler(qconfig))
            for cls, qconfig in qconfig_mapping.get('object_type', [])]
        self.module_name: Dict[str, Optional[QConfigHandler]] = {
            name: _handler(qconfig) for name, qconfig in qconfig_mapping.get('module_name', [])}

    def qconfig_for(self, node: fx.Node, module: Optional[nn.Module]) -> Any:
        target = node.meta.get('float_target', node.target)
        if node.op == 'call_module' and target in self.module_name:
            return self.module_name[target]
        for cls, qconfig in self.object_type:
            if module is not None and isinstance(module, cls):
                return qconfig
        return self.qconfig


def _as_type(cls: Any) -> type:
    return import_object(cls)[2] if isinstance(cls, str) else cls


def _handler(qconfig: Optional[Dict]) -> Optional[QConfigHandler]:
    return None if qconfig is None else QConfigHandler(qconfig)

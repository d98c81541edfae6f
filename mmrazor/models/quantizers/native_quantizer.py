"""``TorchNativeQuantizer``: fake-quantize a traced model for torch's x86 int8 kernels."""
from typing import Any, Dict, Optional, Sequence, Tuple

import torch
import torch.fx as fx
import torch.nn as nn
from torch.ao.quantization.backend_config import BackendConfig

from mmrazor.registry import MODELS
from mmrazor.structures.quantization import (
    BACKEND_DTYPES,
    QConfigHandler,
    QuantizationPolicy,
    build_backend_config,
)
from mmrazor.utils.lookup import import_object

from .base import BaseQuantizer
from .exporters import export_qdq_onnx
from .fake_quant_access import is_fake_quant
from .lowering import lower_to_int8
from .prepare import GraphQuantizer

_REDUNDANT_KEYS = tuple(f'extra_{what}_{side}_wo_fakequant'
                        for what in ('module', 'function', 'method')
                        for side in ('prev', 'next'))


def qscheme_mode(qscheme: Any) -> str:
    """``'per_{tensor|channel}_{symmetric|affine}'`` of a ``QSchemeHandler``."""
    granularity = 'channel' if qscheme.is_per_channel else 'tensor'
    return f'per_{granularity}_{"symmetric" if qscheme.is_symmetry else "affine"}'


@MODELS.register_module()
class TorchNativeQuantizer(BaseQuantizer):
    """Quantize for torch's own int8 CPU kernels (fbgemm / x86) and QDQ ONNX.

    Args:
        global_qconfig (dict): ``w_observer``, ``a_observer``, ``w_fake_quant``,
            ``a_fake_quant``, ``w_qscheme``, ``a_qscheme`` (see ``QConfigHandler``).
        no_observer_modules (Sequence[str | type], optional): Module classes whose
            ops stay float (no fake-quant around them). Defaults to None.
        tracer (dict): The tracer config. Defaults to ``dict(type='mmrazor.CustomTracer')``.
        extra_redundant_fakequants (dict): ``extra_{module,function,method}_{prev,next}
            _wo_fakequant``: ops (class / function / method names) whose inputs (prev)
            or outputs (next) are not fake-quantized, besides the backend's own.
        init_cfg (dict, optional): Defaults to None.
    """

    backend = 'native'
    support_w_modes: Tuple[str, ...] = ('per_tensor_symmetric', 'per_channel_symmetric',
                                        'per_tensor_affine', 'per_channel_affine')
    support_a_modes: Tuple[str, ...] = ('per_tensor_symmetric', 'per_tensor_affine')
    # the backend's own ops without input (prev) / output (next) fake-quants
    module_prev_wo_fakequant: Tuple = ()
    module_next_wo_fakequant: Tuple = ()
    function_prev_wo_fakequant: Tuple = ()
    function_next_wo_fakequant: Tuple = ()
    method_prev_wo_fakequant: Tuple = ()
    method_next_wo_fakequant: Tuple = ()

    def __init__(self,
                 global_qconfig: Dict,
                 no_observer_modules: Optional[Sequence] = None,
                 tracer: Dict = dict(type='mmrazor.CustomTracer'),  # noqa: B006
                 extra_redundant_fakequants: Dict = dict(  # noqa: B006
                     extra_module_prev_wo_fakequant=tuple(),
                     extra_module_next_wo_fakequant=tuple(),
                     extra_function_prev_wo_fakequant=tuple(),
                     extra_function_next_wo_fakequant=tuple(),
                     extra_method_prev_wo_fakequant=tuple(),
                     extra_method_next_wo_fakequant=tuple()),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(tracer, init_cfg)
        self.qconfig = QConfigHandler(global_qconfig)
        self._check_qschemes()
        unknown = set(extra_redundant_fakequants) - set(_REDUNDANT_KEYS)
        if unknown:
            raise KeyError(f'extra_redundant_fakequants: unknown keys {sorted(unknown)}; '
                           f'valid keys: {list(_REDUNDANT_KEYS)}')
        self.extra_redundant_fakequants = {key: tuple(extra_redundant_fakequants.get(key, ()))
                                           for key in _REDUNDANT_KEYS}
        self.no_observer_modules = tuple(no_observer_modules or ())
        self.policy = self.build_policy()

    def _check_qschemes(self) -> None:
        """The qschemes' modes and dtypes are ones the backend runs."""
        activations, weights = BACKEND_DTYPES[self.backend]
        for what, qscheme, modes, dtypes in (
                ('w_qscheme', self.qconfig.w_qscheme, self.support_w_modes, weights),
                ('a_qscheme', self.qconfig.a_qscheme, self.support_a_modes, activations)):
            mode = qscheme_mode(qscheme)
            if mode not in modes:
                raise ValueError(f'{type(self).__name__} (backend {self.backend!r}) cannot '
                                 f'run {what} {mode}; it supports {list(modes)}')
            if qscheme.dtype not in dtypes:
                names = [str(dtype).replace('torch.', '') for dtype in dtypes]
                raise ValueError(f'{type(self).__name__} (backend {self.backend!r}) cannot '
                                 f'run {what} qdtype={qscheme.qdtype!r}; it supports '
                                 f'qdtype in {names}')

    def build_policy(self) -> QuantizationPolicy:
        """The backend's quantization policy plus the user's extra settings."""
        extra = self.extra_redundant_fakequants
        prev = (self.module_prev_wo_fakequant + self.function_prev_wo_fakequant
                + self.method_prev_wo_fakequant + extra['extra_module_prev_wo_fakequant']
                + extra['extra_function_prev_wo_fakequant']
                + extra['extra_method_prev_wo_fakequant'])
        nxt = (self.module_next_wo_fakequant + self.function_next_wo_fakequant
               + self.method_next_wo_fakequant + extra['extra_module_next_wo_fakequant']
               + extra['extra_function_next_wo_fakequant']
               + extra['extra_method_next_wo_fakequant'])
        return QuantizationPolicy(
            float_modules={_op_name(op) for op in self.no_observer_modules},
            no_input_quant={_op_name(op) for op in prev},
            no_output_quant={_op_name(op) for op in nxt})

    @property
    def backend_config(self) -> BackendConfig:
        """What this quantizer quantizes, as a torch.ao ``BackendConfig``."""
        return build_backend_config(self.backend, self.policy)

    def qconfig_for(self, node: fx.Node, module: Optional[nn.Module]) -> QConfigHandler:
        """The qconfig of one op (one global qconfig here)."""
        return self.qconfig

    def prepare(self, model: nn.Module, graph_module: fx.GraphModule,
                shared: Optional[Dict[str, nn.Module]] = None) -> fx.GraphModule:
        """Fuse layers and insert fake-quants into ``graph_module`` (in place)."""
        return GraphQuantizer(self.policy, self.qconfig_for, shared).prepare(graph_module)

    def post_process_for_deploy(self, observed_module: nn.Module, device: str = 'cpu',
                                update_weight_with_fakequant: bool = False,
                                keep_w_fake_quant: bool = False) -> None:
        """Freeze the quantization of a calibrated / trained model for export.

        Observers stop and fake-quants stay on, so the qparams are final. With
        ``update_weight_with_fakequant`` the float weights are replaced by their
        fake-quantized values (and their fake-quants turned off unless
        ``keep_w_fake_quant``).
        """
        observed_module.to(device)
        for module in observed_module.modules():
            if is_fake_quant(module) and hasattr(module, 'disable_observer'):
                module.disable_observer()
                module.enable_fake_quant()
        if not update_weight_with_fakequant:
            return
        from .qat_modules import QAT_MODULES, QConvBn2d
        for module in observed_module.modules():
            if isinstance(module, QAT_MODULES) and not isinstance(module, QConvBn2d):
                layer = module.conv if hasattr(module, 'conv') else module.linear
                with torch.no_grad():
                    layer.weight.copy_(module.weight_fake_quant(layer.weight))
                if not keep_w_fake_quant:
                    module.weight_fake_quant.disable_fake_quant()

    def convert_to_int8(self, prepared: fx.GraphModule) -> fx.GraphModule:
        """An int8 copy of ``prepared`` running torch's quantized CPU kernels."""
        return lower_to_int8(prepared, self.policy)

    def export_onnx(self, prepared: fx.GraphModule, inputs: torch.Tensor, output_path: str,
                    constant_args: Sequence = (), opset_version: int = 18) -> str:
        """Write ``prepared`` as a QDQ ONNX file (onnxruntime / OpenVINO / TensorRT)."""
        return export_qdq_onnx(prepared, inputs, output_path, constant_args, opset_version)


def _op_name(op: Any) -> str:
    """The name the policy matches for a class / function (object or dotted path, which
    is imported: ``'torch.nn.Linear'`` names ``torch.nn.modules.linear.Linear``) or a
    method / class name without dots."""
    if isinstance(op, str):
        if '.' not in op:
            return op
        op = import_object(op)[2]
    module = getattr(op, '__module__', '')
    name = getattr(op, '__qualname__', getattr(op, '__name__', str(op)))
    return f'{module}.{name}' if module else name

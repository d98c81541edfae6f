"""Recorders: record module/method/function inputs and outputs, and parameters."""
from .base_recorder import BaseRecorder
from .function_inputs_recorder import FunctionInputsRecorder
from .function_outputs_recorder import FunctionOutputsRecorder
from .method_inputs_recorder import MethodInputsRecorder
from .method_outputs_recorder import MethodOutputsRecorder
from .module_inputs_recorder import ModuleInputsRecorder
from .module_outputs_recorder import ModuleOutputsRecorder
from .param_recorder import ParameterRecorder
from .recorder_manager import RecorderManager

__all__ = [
    'BaseRecorder', 'FunctionInputsRecorder', 'FunctionOutputsRecorder',
    'MethodInputsRecorder', 'MethodOutputsRecorder', 'ModuleInputsRecorder',
    'ModuleOutputsRecorder', 'ParameterRecorder', 'RecorderManager'
]

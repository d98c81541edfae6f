"""Task modules: recorders, deliveries (and later tracers, estimators, predictors)."""
from .delivery import (
                       DistillDelivery,
                       DistillDeliveryManager,
                       FunctionOutputsDelivery,
                       MethodOutputsDelivery,
)
from .recorder import (
                       BaseRecorder,
                       FunctionInputsRecorder,
                       FunctionOutputsRecorder,
                       MethodInputsRecorder,
                       MethodOutputsRecorder,
                       ModuleInputsRecorder,
                       ModuleOutputsRecorder,
                       ParameterRecorder,
                       RecorderManager,
)

__all__ = [
    'DistillDelivery', 'DistillDeliveryManager', 'FunctionOutputsDelivery',
    'MethodOutputsDelivery', 'BaseRecorder', 'FunctionInputsRecorder',
    'FunctionOutputsRecorder', 'MethodInputsRecorder', 'MethodOutputsRecorder',
    'ModuleInputsRecorder', 'ModuleOutputsRecorder', 'ParameterRecorder',
    'RecorderManager'
]

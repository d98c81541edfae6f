"""Task modules: recorders, deliveries, demo inputs, resource estimators, the tracer."""
from .delivery import (
                       DistillDelivery,
                       DistillDeliveryManager,
                       FunctionOutputsDelivery,
                       MethodOutputsDelivery,
)
from .demo_inputs import (
                       BaseDemoInput,
                       DefaultDemoInput,
                       DefaultMMClsDemoInput,
                       DefaultMMDemoInput,
                       DefaultMMDetDemoInput,
                       DefaultMMPoseDemoInput,
                       DefaultMMRotateDemoInput,
                       DefaultMMSegDemoInput,
                       DefaultMMYoloDemoInput,
                       defaul_demo_inputs,
                       default_demo_inputs,
                       get_default_demo_input_class,
)
from .estimators import (
                       BaseCounter,
                       BaseEstimator,
                       BaseFunctionCounter,
                       FlopsParamsReport,
                       LatencyStats,
                       ResourceEstimator,
                       count_flops_params,
                       get_model_flops_params,
                       get_model_latency,
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
from .tracer import (
                       ChannelAnalyzer,
                       FxTracer,
                       MMFxTracer,
                       analyze_channels,
                       trace_model,
)

__all__ = [
    'DistillDelivery', 'DistillDeliveryManager', 'FunctionOutputsDelivery',
    'MethodOutputsDelivery', 'BaseRecorder', 'FunctionInputsRecorder',
    'FunctionOutputsRecorder', 'MethodInputsRecorder', 'MethodOutputsRecorder',
    'ModuleInputsRecorder', 'ModuleOutputsRecorder', 'ParameterRecorder',
    'RecorderManager', 'BaseDemoInput', 'DefaultDemoInput', 'DefaultMMClsDemoInput',
    'DefaultMMDemoInput', 'DefaultMMDetDemoInput', 'DefaultMMPoseDemoInput',
    'DefaultMMRotateDemoInput', 'DefaultMMSegDemoInput', 'DefaultMMYoloDemoInput',
    'default_demo_inputs', 'defaul_demo_inputs', 'get_default_demo_input_class',
    'BaseCounter', 'BaseEstimator', 'BaseFunctionCounter', 'FlopsParamsReport', 'LatencyStats',
    'ResourceEstimator', 'count_flops_params', 'get_model_flops_params', 'get_model_latency',
    'ChannelAnalyzer', 'FxTracer', 'MMFxTracer', 'analyze_channels', 'trace_model'
]
from .predictor import (  # noqa: E402
                       CartsHandler,
                       GaussProcessHandler,
                       MetricPredictor,
                       MLPHandler,
                       RBFHandler,
)

__all__ += ['MetricPredictor', 'CartsHandler', 'GaussProcessHandler', 'MLPHandler',
            'RBFHandler']

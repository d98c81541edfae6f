"""Per-layer FLOPs/params counters (``<ModuleClass>Counter`` in ``TASK_UTILS``) and the
counters of matmul-type functions."""
from .activation_layer_counter import (
                                       ActivationCounter,
                                       ELUCounter,
                                       GELUCounter,
                                       HardsigmoidCounter,
                                       HardswishCounter,
                                       HSigmoidCounter,
                                       HSwishCounter,
                                       LayerScaleCounter,
                                       LeakyReLUCounter,
                                       MishCounter,
                                       PReLUCounter,
                                       ReLU6Counter,
                                       ReLUCounter,
                                       ScaleCounter,
                                       SigmoidCounter,
                                       SiLUCounter,
                                       SoftmaxCounter,
                                       SoftplusCounter,
                                       SwishCounter,
                                       TanhCounter,
)
from .attention_counter import MultiheadAttentionCounter
from .base_counter import BaseCounter, Cost, active_parameters, count_active_params
from .conv_layer_counter import Conv1dCounter, Conv2dCounter, Conv3dCounter, ConvCounter
from .deconv_layer_counter import (
                                       ConvTranspose1dCounter,
                                       ConvTranspose2dCounter,
                                       ConvTranspose3dCounter,
                                       ConvTransposeCounter,
)
from .dynamic_counters import DynamicConv2dCounter, DynamicLinearCounter
from .function_counters import (
                                       AddmmCounter,
                                       BaseFunctionCounter,
                                       EinsumCounter,
                                       FunctionalConvCounter,
                                       FunctionalLinearCounter,
                                       MatmulCounter,
                                       RightMatmulCounter,
                                       ScaledDotProductAttentionCounter,
)
from .linear_layer_counter import LinearCounter
from .norm_layer_counter import (
                                       BatchNorm1dCounter,
                                       BatchNorm2dCounter,
                                       BatchNorm3dCounter,
                                       GroupNormCounter,
                                       InstanceNorm1dCounter,
                                       InstanceNorm2dCounter,
                                       InstanceNorm3dCounter,
                                       LayerNormCounter,
                                       NormCounter,
                                       SyncBatchNormCounter,
)
from .pooling_layer_counter import (
                                       AdaptiveAvgPool1dCounter,
                                       AdaptiveAvgPool2dCounter,
                                       AdaptiveAvgPool3dCounter,
                                       AdaptiveMaxPool1dCounter,
                                       AdaptiveMaxPool2dCounter,
                                       AdaptiveMaxPool3dCounter,
                                       AvgPool1dCounter,
                                       AvgPool2dCounter,
                                       AvgPool3dCounter,
                                       MaxPool1dCounter,
                                       MaxPool2dCounter,
                                       MaxPool3dCounter,
                                       PoolCounter,
)
from .upsample_layer_counter import UpsampleCounter
from .zero_cost_counters import (
                                       AdaptivePaddingCounter,
                                       DropoutCounter,
                                       DropPathCounter,
                                       FlattenCounter,
                                       IdentityCounter,
                                       PermuteCounter,
                                       StochasticDepthCounter,
                                       UnflattenCounter,
                                       UnfoldCounter,
                                       ZeroCostCounter,
)

__all__ = [
    # interface
    'BaseCounter', 'BaseFunctionCounter', 'Cost', 'active_parameters', 'count_active_params',
    # layers
    'ConvCounter', 'Conv1dCounter', 'Conv2dCounter', 'Conv3dCounter', 'ConvTransposeCounter',
    'ConvTranspose1dCounter', 'ConvTranspose2dCounter', 'ConvTranspose3dCounter',
    'LinearCounter', 'DynamicConv2dCounter', 'DynamicLinearCounter', 'NormCounter',
    'BatchNorm1dCounter', 'BatchNorm2dCounter',
    'BatchNorm3dCounter', 'SyncBatchNormCounter', 'InstanceNorm1dCounter',
    'InstanceNorm2dCounter', 'InstanceNorm3dCounter', 'LayerNormCounter', 'GroupNormCounter',
    'ActivationCounter', 'ReLUCounter', 'PReLUCounter', 'ELUCounter', 'LeakyReLUCounter',
    'ReLU6Counter', 'GELUCounter', 'SiLUCounter', 'SigmoidCounter', 'TanhCounter',
    'HardswishCounter', 'HardsigmoidCounter', 'MishCounter', 'SoftplusCounter', 'SoftmaxCounter',
    'HSwishCounter', 'HSigmoidCounter', 'SwishCounter', 'ScaleCounter', 'LayerScaleCounter',
    'PoolCounter', 'MaxPool1dCounter', 'MaxPool2dCounter', 'MaxPool3dCounter',
    'AvgPool1dCounter', 'AvgPool2dCounter', 'AvgPool3dCounter', 'AdaptiveMaxPool1dCounter',
    'AdaptiveMaxPool2dCounter', 'AdaptiveMaxPool3dCounter', 'AdaptiveAvgPool1dCounter',
    'AdaptiveAvgPool2dCounter', 'AdaptiveAvgPool3dCounter', 'UpsampleCounter',
    'MultiheadAttentionCounter', 'ZeroCostCounter', 'IdentityCounter', 'DropoutCounter',
    'FlattenCounter', 'UnflattenCounter', 'DropPathCounter', 'AdaptivePaddingCounter',
    'PermuteCounter', 'StochasticDepthCounter', 'UnfoldCounter',
    # functions
    'MatmulCounter', 'RightMatmulCounter', 'AddmmCounter', 'EinsumCounter',
    'ScaledDotProductAttentionCounter', 'FunctionalLinearCounter', 'FunctionalConvCounter',
]

from .dmcp_counters import DMCPBatchNorm2dCounter  # noqa: E402

__all__ += ['DMCPBatchNorm2dCounter']
from .group_fisher_counters import (  # noqa: E402
    GroupFisherConv2dCounter,
    GroupFisherLinearCounter,
)

__all__ += ['GroupFisherConv2dCounter', 'GroupFisherLinearCounter']
from .relative_position_counter import RelativePosition2DCounter  # noqa: E402

__all__ += ['RelativePosition2DCounter']

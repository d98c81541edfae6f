"""Dynamic conv, linear and norm layers."""
from .dynamic_conv import DynamicConv2d, DynamicConv2dAdaptivePadding, DynamicConvMixin
from .dynamic_linear import DynamicLinear, DynamicLinearMixin
from .dynamic_norm import (
                           DynamicBatchNorm1d,
                           DynamicBatchNorm2d,
                           DynamicBatchNorm3d,
                           DynamicBatchNormMixin,
                           DynamicBatchNormXd,
                           DynamicGroupNorm,
                           DynamicLayerNorm,
                           DynamicSyncBatchNorm,
                           SwitchableBatchNorm2d,
)

__all__ = ['DynamicConv2d', 'DynamicConv2dAdaptivePadding', 'DynamicConvMixin',
           'DynamicLinear', 'DynamicLinearMixin', 'DynamicBatchNorm1d', 'DynamicBatchNorm2d',
           'DynamicBatchNorm3d', 'DynamicBatchNormMixin', 'DynamicBatchNormXd',
           'DynamicGroupNorm', 'DynamicLayerNorm', 'DynamicSyncBatchNorm',
           'SwitchableBatchNorm2d']

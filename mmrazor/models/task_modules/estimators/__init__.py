"""Resource estimators: FLOPs, params and latency of a model."""
from .base_estimator import BaseEstimator
from .counters import (
                       BaseCounter,
                       BaseFunctionCounter,
                       Cost,
                       FlopsParamsReport,
                       LatencyStats,
                       count_flops_params,
                       count_model,
                       get_model_flops_params,
                       get_model_latency,
                       measure_latency,
)
from .resource_estimator import ResourceEstimator

__all__ = ['BaseEstimator', 'ResourceEstimator', 'BaseCounter', 'BaseFunctionCounter', 'Cost',
           'FlopsParamsReport', 'LatencyStats', 'count_flops_params', 'count_model',
           'get_model_flops_params', 'get_model_latency', 'measure_latency']
from .cost_table import SubnetCostTable, UnsupportedSpaceError  # noqa: E402

__all__ += ['SubnetCostTable', 'UnsupportedSpaceError']

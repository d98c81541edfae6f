"""FLOPs/params and latency counting: per-layer counters, the counting pass, reports."""
from .counting import count_flops_params, registered_counters, run_model
from .flops_params_counter import count_model, get_model_flops_params, make_input
from .latency_counter import LatencyStats, get_model_latency, measure_latency
from .op_counters import *  # noqa: F401,F403
from .report import FlopsParamsReport

__all__ = ['count_flops_params', 'count_model', 'get_model_flops_params', 'get_model_latency',
           'measure_latency', 'LatencyStats', 'FlopsParamsReport', 'make_input', 'run_model',
           'registered_counters']

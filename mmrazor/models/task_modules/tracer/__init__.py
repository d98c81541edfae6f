"""The one tracer (torch.fx with concrete values) and channel analysis for pruning."""
from .channel_analyzer import ChannelAnalyzer, analyze_channels
from .channel_elements import ChannelElements
from .channel_flow import ChannelFlow, Port, follow_channels, prunable
from .channel_units import FrozenGroup, build_unit_configs
from .custom_tracer import BatchSpecialisation, CustomTracer
from .fx_tracer import (
    DEFAULT_LEAF_MODULES,
    FxTracer,
    MethodLeaf,
    MMFxTracer,
    TraceFailure,
    trace_model,
)

__all__ = [
    'ChannelAnalyzer', 'analyze_channels', 'ChannelElements', 'ChannelFlow', 'Port',
    'follow_channels', 'prunable', 'FrozenGroup', 'build_unit_configs',
    'DEFAULT_LEAF_MODULES', 'FxTracer', 'MMFxTracer', 'MethodLeaf', 'TraceFailure',
    'trace_model', 'CustomTracer', 'BatchSpecialisation'
]

from .backward_tracer import backward_tracer  # noqa: E402

__all__ += ['backward_tracer']

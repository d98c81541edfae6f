"""``ChannelAnalyzer``: which channels of a model can be pruned, and in which groups."""
import inspect
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from ..demo_inputs import BaseDemoInput, DefaultDemoInput
from .channel_flow import follow_channels
from .channel_units import FrozenGroup, build_unit_configs
from .fx_tracer import FxTracer, TraceFailure, trace_model

TRACER_TYPES = ('FxTracer', 'BackwardTracer')


@TASK_UTILS.register_module()
class ChannelAnalyzer:
    """Trace a model and derive its channel units.

    The model runs once on the demo input under :class:`FxTracer` (what cannot be
    traced becomes a leaf, automatically); channels are followed through every
    operation (:mod:`.channel_flow`); channels that must keep one width form a unit,
    named as MMRazor names them (``'backbone.layer1.0.conv1_(0, 64)_64'``).
    Channels an operation cannot prune correctly are frozen and listed in
    :attr:`frozen_groups` with the reason.

    Args:
        demo_input (tuple | dict | BaseDemoInput | Tensor): The input shape (e.g.
            ``(1, 3, 224, 224)``), a demo-input config (``dict(type=...)``) or
            object, or the input tensor itself (token ids for an embedding).
            Defaults to ``(1, 3, 224, 224)``.
        tracer_type (str): ``'FxTracer'`` or ``'BackwardTracer'``. Both name the
            one tracing mechanism (MMRazor's autograd tracer is not maintained);
            the name is accepted so MMRazor configs run. Defaults to
            ``'BackwardTracer'`` like MMRazor.
    """

    def __init__(self,
                 demo_input: Union[Sequence[int], Dict, BaseDemoInput,
                                   torch.Tensor] = (1, 3, 224, 224),
                 tracer_type: str = 'BackwardTracer') -> None:
        if tracer_type not in TRACER_TYPES:
            raise ValueError(f'Unknown tracer_type {tracer_type!r}; valid: '
                             f'{", ".join(TRACER_TYPES)}')
        self.demo_input = demo_input
        self.tracer_type = tracer_type
        # try a trace on meta tensors first (see _trace_on_meta); False: always real
        self.trace_on_meta = True
        self.frozen_groups: List[FrozenGroup] = []
        self.auto_leaves: Dict[str, str] = {}
        self.hidden_layers: Dict[str, List[str]] = {}

    def demo_inputs(self, model: nn.Module) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        """The tensors to trace with and the constant arguments (data samples, mode)."""
        demo = self.demo_input
        if isinstance(demo, torch.Tensor):  # the input itself (token ids, ...)
            data = demo
        else:
            if isinstance(demo, dict):
                demo = TASK_UTILS.build(demo)
            elif not isinstance(demo, BaseDemoInput):
                demo = DefaultDemoInput(input_shape=tuple(demo))
            data = demo.get_data(model)
        if isinstance(data, torch.Tensor):
            params = list(inspect.signature(model.forward).parameters)  # bound: no self
            return {params[0]: data}, {}
        inputs = {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}
        constants = {k: v for k, v in data.items() if k not in inputs}
        return inputs, constants

    def analyze(self, model: nn.Module) -> Dict[str, Dict]:
        """The prunable units of ``model``: ``{unit_name: {'init_args':
        {'num_channels': n}, 'channels': {'input_related': [...],
        'output_related': [...]}}}``."""
        inputs, constants = self.demo_inputs(model)
        traced = self._trace_on_meta(model, inputs, constants) if self.trace_on_meta else None
        if traced is None:
            graph, tracer = self._trace(model, inputs, constants)
            flow, hidden = follow_channels(model, graph)
        else:
            tracer, flow, hidden = traced
        units, self.frozen_groups = build_unit_configs(flow)
        self.auto_leaves = dict(tracer.auto_leaves)
        self.hidden_layers = hidden
        if hidden:
            listing = '; '.join(f'{leaf} ({len(layers)}: {", ".join(layers[:3])}'
                                f'{", ..." if len(layers) > 3 else ""})'
                                for leaf, layers in hidden.items())
            warnings.warn('These parts of the model could not be traced, so their conv/'
                          f'linear layers keep all channels: {listing}. Reasons: '
                          + '; '.join(f'{k}: {v}' for k, v in tracer.auto_leaves.items()),
                          stacklevel=2)
        return units

    @staticmethod
    def _trace_on_meta(model: nn.Module, inputs: Dict[str, Any], constants: Dict[str, Any]
                       ) -> Optional[Tuple[FxTracer, Any, Dict[str, List[str]]]]:
        """Trace and follow the channels on ``meta`` tensors: the same graph as a real
        run without computing anything (ResNet-50: a third of the time). Only a trace
        that needed no leaf and no data is kept; otherwise None (trace for real)."""
        try:
            with warnings.catch_warnings():  # the real trace repeats what matters
                warnings.simplefilter('ignore')
                graph, tracer = trace_model(model, inputs, constants, FxTracer(),
                                            on_meta=True)
                if tracer.auto_leaves:
                    return None
                flow, hidden = follow_channels(model, graph)
        except Exception:  # noqa: BLE001 - anything the meta run cannot answer
            return None
        return tracer, flow, hidden

    @staticmethod
    def _trace(model: nn.Module, inputs: Dict[str, Any],
               constants: Dict[str, Any]) -> Tuple[Any, FxTracer]:
        try:
            return trace_model(model, inputs, constants, FxTracer())
        except TraceFailure as error:
            if constants.get('mode') != 'tensor':
                raise
            # some upstream models break in 'tensor' mode (mmseg's PointRend): the
            # 'predict' path runs the same layers, post-processing becomes leaves
            warnings.warn(f"{type(model).__name__} cannot run in 'tensor' mode ({error}); "
                          "tracing its 'predict' mode instead", stacklevel=2)
            constants = {**constants, 'mode': 'predict'}
            return trace_model(model, inputs, constants, FxTracer())

    def report(self) -> List[Tuple[str, int, str]]:
        """(layers, channels, reason) of every frozen group of the last analysis."""
        return [(', '.join(g.layers), g.num_channels, g.reason) for g in self.frozen_groups]


def analyze_channels(model: nn.Module, demo_input: Optional[Any] = None) -> Dict[str, Dict]:
    """Shortcut: ``ChannelAnalyzer(demo_input).analyze(model)``."""
    analyzer = ChannelAnalyzer(demo_input if demo_input is not None else (1, 3, 224, 224),
                               tracer_type='FxTracer')
    return analyzer.analyze(model)

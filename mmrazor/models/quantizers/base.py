"""``BaseQuantizer``: traces a model and prepares the graph for quantization."""
import warnings
from typing import Any, Dict, List, Optional

import torch.fx as fx
import torch.nn as nn
from mmengine.model import BaseModule

from mmrazor.models.task_modules.tracer import CustomTracer, TraceFailure, trace_model
from mmrazor.registry import TASK_UTILS


class BaseQuantizer(BaseModule):
    """Trace with the tracer config, then :meth:`prepare` the graph.

    Args:
        tracer (dict): Config of the tracer (``CustomTracer``).
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self, tracer: Dict, init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        self.tracer_cfg = dict(tracer)
        self._check_tracer_cfg()

    def _check_tracer_cfg(self) -> None:
        # build once now: a bad method path or class fails at config time
        self.build_tracer()

    def build_tracer(self) -> CustomTracer:
        """A new tracer (tracers keep per-trace state)."""
        tracer = TASK_UTILS.build(self.tracer_cfg)
        if not isinstance(tracer, CustomTracer):
            raise TypeError(f'{type(self).__name__} needs a CustomTracer, got '
                            f'{type(tracer).__name__}')
        return tracer

    def trace(self, model: nn.Module, inputs: Dict[str, Any],
              concrete_args: Optional[Dict[str, Any]] = None) -> fx.GraphModule:
        """Trace ``model`` on real ``inputs`` into a graph module sharing its layers."""
        mode = (concrete_args or {}).get('mode')
        try:
            graph, tracer = trace_model(model, inputs, concrete_args, self.build_tracer())
        except TraceFailure as error:
            raise TraceFailure(
                f'{type(model).__name__} cannot be traced for quantization (mode '
                f'{mode!r}): {error}. Add the method that fails to the tracer\'s '
                "skipped_methods (e.g. 'mmcls.models.heads.ClsHead._get_loss') or its "
                'module to skipped_module_names, or drop the mode from forward_modes') \
                from error
        gm = fx.GraphModule(model, graph, class_name=f'{type(model).__name__}Graph')
        gm.meta['auto_leaves'] = dict(tracer.auto_leaves)
        float_layers = _untraced_layers(model, gm)
        if tracer.auto_leaves and float_layers:
            warnings.warn(
                f'{len(float_layers)} conv/linear layers of {type(model).__name__} stay '
                f'float in the {mode!r} graph ({", ".join(float_layers[:3])}'
                f'{", ..." if len(float_layers) > 3 else ""}): they run inside parts that '
                'could not be traced: ' + '; '.join(f'{k} ({v})' for k, v in
                                                    tracer.auto_leaves.items())
                + '. Name a narrower method in the tracer\'s skipped_methods to quantize '
                'them', stacklevel=2)
        return gm

    def prepare(self, model: nn.Module, graph_module: fx.GraphModule,
                shared: Optional[Dict[str, nn.Module]] = None) -> fx.GraphModule:
        """Insert observers / fake-quants into ``graph_module`` (traced from ``model``)."""
        raise NotImplementedError


def _untraced_layers(model: nn.Module, gm: fx.GraphModule) -> List[str]:
    """Conv / linear layers of ``model`` that no ``call_module`` node of ``gm`` runs."""
    called = {str(node.target) for node in gm.graph.nodes if node.op == 'call_module'}
    return [name for name, module in model.named_modules()
            if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear)) and name not in called]

"""``BaseQuantizer``: traces a model and prepares the graph for quantization."""
from typing import Any, Dict, Optional

import torch.fx as fx
import torch.nn as nn
from mmengine.model import BaseModule

from mmrazor.models.task_modules.tracer import CustomTracer, trace_model
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
        graph, tracer = trace_model(model, inputs, concrete_args, self.build_tracer())
        gm = fx.GraphModule(model, graph, class_name=f'{type(model).__name__}Graph')
        gm.meta['auto_leaves'] = dict(tracer.auto_leaves)
        return gm

    def prepare(self, model: nn.Module, graph_module: fx.GraphModule,
                shared: Optional[Dict[str, nn.Module]] = None) -> fx.GraphModule:
        """Insert observers / fake-quants into ``graph_module`` (traced from ``model``)."""
        raise NotImplementedError

"""Turn a traced float graph into a fake-quantized one (no torch.ao private APIs).

Two passes over a :class:`torch.fx.GraphModule` traced by the one tracer:

1. fuse: each conv (+ BatchNorm) (+ ReLU) and linear (+ ReLU) call becomes one
   weight-fake-quantizing module (:mod:`.qat_modules`) that shares the original
   layers' parameters;
2. quantize activations, by the :class:`~.policy.QuantizationPolicy`: inputs and
   outputs of ``compute`` / ``binary`` ops get fake-quant modules with their own
   observers, ``passthrough`` ops on quantized values a :class:`SharedFakeQuantize`.

Modules are created through a ``shared`` dict keyed by node name, so the graphs of
several forward modes of one model (``tensor``, ``loss``, ``predict``) use the same
fake-quant modules for the same ops: calibration of one mode quantizes them all.
"""
from typing import Any, Callable, Dict, List, Optional

import torch.fx as fx
import torch.nn as nn

from mmrazor.structures.quantization.policy import (
    BINARY,
    COMPUTE,
    PASSTHROUGH,
    QuantizationPolicy,
    tensor_inputs,
)

from .qat_modules import QConv2d, QConvBn2d, QLinear, SharedFakeQuantize

# (node, its module or None) -> the qconfig handler for it, None: keep the op float
QConfigFor = Callable[[fx.Node, Optional[nn.Module]], Any]


class GraphQuantizer:
    """Prepare one graph module for quantization-aware runs.

    Args:
        policy (QuantizationPolicy): What gets quantized.
        qconfig_for (callable): ``(node, module or None) -> QConfigHandler | None``,
            whose ``weight_fake_quant()`` / ``activation_fake_quant()`` make new
            fake-quant modules; None keeps the op float.
        shared (dict): Modules already made for other graphs of the same model, by
            name; new ones are added.
    """

    def __init__(self, policy: QuantizationPolicy, qconfig_for: QConfigFor,
                 shared: Optional[Dict[str, nn.Module]] = None) -> None:
        self.policy = policy
        self.qconfig_for = qconfig_for
        self.shared = {} if shared is None else shared

    def prepare(self, gm: fx.GraphModule) -> fx.GraphModule:
        """Fuse and insert fake-quants in place; returns ``gm`` recompiled."""
        self._fuse(gm)
        self._quantize_activations(gm)
        gm.graph.lint()
        gm.recompile()
        return gm

    # --- modules --------------------------------------------------------------------
    def _module(self, gm: fx.GraphModule, name: str, make: Callable[[], nn.Module]) -> str:
        module = self.shared.get(name)
        if module is None:
            module = self.shared[name] = make()
        gm.add_submodule(name, module)
        return name

    # --- pass 1: fuse conv/bn/relu and linear/relu --------------------------------
    def _fuse(self, gm: fx.GraphModule) -> None:
        modules = dict(gm.named_modules())
        for node in list(gm.graph.nodes):
            if self.policy.kind(node, modules) != COMPUTE:
                continue
            layer = modules[node.target]
            qconfig = self.qconfig_for(node, layer)
            if qconfig is None:
                continue
            if _is_conv2d(layer) and len(node.args) == 1 and not node.kwargs:
                self._fuse_one(gm, node, modules, qconfig, conv=layer)
            elif isinstance(layer, nn.Linear) and len(node.args) == 1 and not node.kwargs:
                self._fuse_one(gm, node, modules, qconfig, linear=layer)

    def _fuse_one(self, gm: fx.GraphModule, node: fx.Node, modules: Dict[str, nn.Module],
                  qconfig: Any, conv: Optional[nn.Conv2d] = None,
                  linear: Optional[nn.Linear] = None) -> None:
        chain: List[fx.Node] = [node]
        bn = None
        follower = _sole_user(node)
        if (conv is not None and follower is not None and follower.op == 'call_module'
                and isinstance(modules[follower.target], nn.BatchNorm2d)
                and follower.args == (node, ) and not follower.kwargs
                and modules[follower.target].track_running_stats):
            bn = modules[follower.target]
            chain.append(follower)
            follower = _sole_user(follower)
        with_relu = (self.policy.fuse_relu and follower is not None
                     and self.policy.is_relu(follower, modules)
                     and follower.args[:1] == (chain[-1], )
                     and not _relu_has_extra_args(follower))
        if with_relu:
            chain.append(follower)

        def make() -> nn.Module:
            if conv is not None and bn is not None:
                module = QConvBn2d(conv, bn, qconfig.weight_fake_quant(), with_relu)
            elif conv is not None:
                module = QConv2d(conv, qconfig.weight_fake_quant(), with_relu)
            else:
                module = QLinear(linear, qconfig.weight_fake_quant(), with_relu)
            module.init_weight_qparams()
            return module

        name = self._module(gm, f'{node.name}_qat', make)
        with gm.graph.inserting_after(chain[-1]):
            fused = gm.graph.call_module(name, node.args)
        fused.meta = dict(chain[-1].meta)
        fused.meta['quant_kind'] = COMPUTE
        fused.meta['float_target'] = node.target
        chain[-1].replace_all_uses_with(fused)
        for old in reversed(chain):
            gm.graph.erase_node(old)

    # --- pass 2: activations -------------------------------------------------------
    def _quantize_activations(self, gm: fx.GraphModule) -> None:
        modules = dict(gm.named_modules())
        graph = gm.graph
        on_grid: Dict[fx.Node, nn.Module] = {}  # node -> fake-quant whose grid it is on
        input_fq: Dict[fx.Node, fx.Node] = {}  # float node -> its fake-quantized copy

        def fake_quantize(node: fx.Node, name: str, module_name: str = '',
                          all_uses: bool = True) -> fx.Node:
            """Insert a fake-quant call after ``node``; ``all_uses``: reroute users."""
            users = list(node.users)
            with graph.inserting_after(node):
                fq = graph.call_module(module_name or name, (node, ))
            fq.meta = {'value': node.meta.get('value'), 'quant_kind': 'fake_quant'}
            if all_uses:
                for user in users:
                    user.replace_input_with(node, fq)
            on_grid[fq] = _root_fake_quant(modules[fq.target])
            return fq

        def own_fake_quant(node: fx.Node, qconfig: Any, all_uses: bool = True) -> fx.Node:
            name = self._module(gm, f'{node.name}_post_act_fake_quant',
                                qconfig.activation_fake_quant)
            modules[name] = self.shared[name]
            return fake_quantize(node, name, all_uses=all_uses)

        def shared_fake_quant(node: fx.Node, source: nn.Module) -> fx.Node:
            name = self._module(gm, f'{node.name}_shared_fake_quant',
                                lambda: SharedFakeQuantize(source))
            modules[name] = self.shared[name]
            return fake_quantize(node, name)

        def quantized_input(arg: fx.Node, consumer: fx.Node, qconfig: Any) -> None:
            if arg in on_grid:
                return
            if arg not in input_fq:
                input_fq[arg] = own_fake_quant(arg, qconfig, all_uses=False)
            consumer.replace_input_with(arg, input_fq[arg])

        for node in list(graph.nodes):
            if node.meta.get('quant_kind') == 'fake_quant':
                continue
            kind = node.meta.get('quant_kind') or self.policy.kind(node, modules)
            if kind == COMPUTE and 'quant_kind' not in node.meta:
                kind = 'float'  # a layer pass 1 could not fuse keeps float weights
            names = self.policy.op_names(node, modules)
            qconfig = None
            if kind in (COMPUTE, BINARY):
                qconfig = self.qconfig_for(
                    node, modules.get(node.meta.get('float_target', node.target)))
                kind = kind if qconfig is not None else 'float'
            if kind in (COMPUTE, BINARY):
                if not names & self.policy.no_input_quant:
                    for arg in tensor_inputs(node):
                        quantized_input(arg, node, qconfig)
                if names & self.policy.no_output_quant:
                    continue
                last = node
                relu = _sole_user(node)
                if (kind == BINARY and self.policy.fuse_relu and relu is not None
                        and self.policy.is_relu(relu, modules)
                        and not _relu_has_extra_args(relu)):
                    relu.meta['quant_kind'] = 'fused_relu'
                    last = relu
                own_fake_quant(last, qconfig)
            elif kind == PASSTHROUGH:
                inputs = tensor_inputs(node)
                if inputs and inputs[0] in on_grid and not names & self.policy.no_output_quant:
                    shared_fake_quant(node, on_grid[inputs[0]])


def _root_fake_quant(module: nn.Module) -> nn.Module:
    return module.source if isinstance(module, SharedFakeQuantize) else module


def _is_conv2d(module: nn.Module) -> bool:
    return isinstance(module, nn.Conv2d) and module.padding_mode == 'zeros'


def _sole_user(node: fx.Node) -> Optional[fx.Node]:
    return next(iter(node.users)) if len(node.users) == 1 else None


def _relu_has_extra_args(node: fx.Node) -> bool:
    """A functional ReLU called with more than its input (``inplace`` is harmless)."""
    return len(node.args) > 1 or bool(set(node.kwargs) - {'inplace'})

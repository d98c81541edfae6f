"""Lower a prepared (fake-quantized) graph to torch's int8 CPU kernels.

The fake-quant graph says exactly where values are quantized and with which qparams;
this pass replaces ``fake-quant -> conv/linear(+BN+ReLU) -> fake-quant`` by one
``torch.ao.nn.quantized`` module (fbgemm / x86 kernels, ``quint8`` activations and
``qint8`` weights), adds by ``quantized::add(_relu)``, concatenations by
``quantized::cat``, the first fake-quant of a float value by ``quantize_per_tensor``;
ops that run on quantized tensors as they are (pooling, ReLU, reshapes) stay, and
every other op gets its quantized inputs dequantized. The result computes what the
fake-quant graph computes (up to the kernels' rounding of intermediate sums).
"""
import copy
import operator
from typing import Dict, Optional, Set

import torch
import torch.ao.nn.intrinsic.quantized as nniq
import torch.ao.nn.quantized as nnq
import torch.fx as fx
import torch.nn as nn
from torch.fx.node import map_arg

from mmrazor.structures.quantization.policy import PASSTHROUGH, QuantizationPolicy, tensor_inputs

from .fake_quant_access import (
    is_fake_quant,
    is_per_channel,
    per_tensor_scalars,
    qparams,
    quant_dtype,
)
from .qat_modules import QAT_MODULES, QConv2d, QConvBn2d, SharedFakeQuantize

_ADDS = {operator.add, torch.add}
# tensor methods that read metadata only: quantized tensors answer them as they are
_METADATA_METHODS = {'size', 'dim', 'numel'}


class Int8LoweringError(RuntimeError):
    """A fake-quant graph that torch's int8 CPU kernels cannot run."""


def lower_to_int8(prepared: fx.GraphModule, policy: QuantizationPolicy) -> fx.GraphModule:
    """An int8 copy of ``prepared`` (which is left unchanged), on the CPU wherever
    ``prepared`` is: torch's int8 kernels run on the CPU only, and packing a CUDA weight
    for them crashes the process."""
    gm = copy.deepcopy(prepared).cpu()
    _Lowering(gm, policy).run()
    gm.graph.eliminate_dead_code()
    gm.delete_all_unused_submodules()
    gm.graph.lint()
    gm.recompile()
    return gm


class _Lowering:

    def __init__(self, gm: fx.GraphModule, policy: QuantizationPolicy) -> None:
        self.gm = gm
        self.graph = gm.graph
        self.policy = policy
        self.modules: Dict[str, nn.Module] = dict(gm.named_modules())
        self.quantized: Set[fx.Node] = set()
        self.dequantized: Dict[fx.Node, fx.Node] = {}

    def run(self) -> None:
        for node in list(self.graph.nodes):
            if getattr(node, '_erased', False) or node.op == 'placeholder':
                continue
            module = self.modules.get(node.target) if node.op == 'call_module' else None
            if module is not None and is_fake_quant(module):
                self._fake_quant(node, module)
            elif isinstance(module, QAT_MODULES):
                self._layer(node, module)
            elif self._binary(node):
                continue
            elif self._passthrough(node):
                self.quantized.add(node)
            elif not (node.op == 'call_method' and node.target in _METADATA_METHODS):
                self._dequantize_inputs(node)

    # --- pieces ---------------------------------------------------------------------
    def _fake_quant(self, node: fx.Node, fake_quant: nn.Module) -> None:
        source = node.args[0]
        if source in self.quantized:  # already on this grid (a shared fake-quant)
            node.replace_all_uses_with(source)
            self.graph.erase_node(node)
            return
        scale, zero_point = self._activation_qparams(fake_quant, node)
        with self.graph.inserting_before(node):
            quant = self.graph.call_function(torch.quantize_per_tensor,
                                             (source, scale, zero_point, torch.quint8))
        quant.meta = dict(node.meta)  # later passes read the (tensor) value
        node.replace_all_uses_with(quant)
        self.graph.erase_node(node)
        self.quantized.add(quant)

    def _output_fake_quant(self, node: fx.Node) -> Optional[fx.Node]:
        user = next(iter(node.users)) if len(node.users) == 1 else None
        if user is not None and user.op == 'call_module':
            module = self.modules[user.target]
            if is_fake_quant(module) and not isinstance(module, SharedFakeQuantize):
                return user
        return None

    def _layer(self, node: fx.Node, layer: nn.Module) -> None:
        out_fq = self._output_fake_quant(node)
        if node.args[0] not in self.quantized or out_fq is None:
            raise Int8LoweringError(
                f'{node.name}: a quantized {type(layer).__name__} needs a quantized input '
                'and output for the int8 kernels (an extra_*_wo_fakequant setting removed '
                'one); export this model to ONNX instead')
        scale, zero_point = self._activation_qparams(self.modules[out_fq.target], out_fq)
        name = f'{node.target}_int8'
        self.gm.add_submodule(name, _int8_layer(layer, scale, zero_point))
        node.target = name
        out_fq.replace_all_uses_with(node)
        self.graph.erase_node(out_fq)
        self.quantized.add(node)

    def _binary(self, node: fx.Node) -> bool:
        inputs = tensor_inputs(node)
        is_add = ((node.op == 'call_function' and node.target in _ADDS)
                  or (node.op == 'call_method' and node.target == 'add'))
        is_cat = node.op == 'call_function' and node.target is torch.cat
        if not (is_add or is_cat) or len(inputs) < 2 or node.kwargs.get('alpha', 1) != 1:
            return False
        if not all(arg in self.quantized for arg in inputs):
            return False
        last, relu = node, None
        user = next(iter(node.users)) if len(node.users) == 1 else None
        if is_add and user is not None and self.policy.is_relu(user, self.modules):
            last, relu = user, user
        out_fq = self._output_fake_quant(last)
        if out_fq is None:
            return False
        scale, zero_point = self._activation_qparams(self.modules[out_fq.target], out_fq)
        with self.graph.inserting_before(node):
            if is_add:
                op = torch.ops.quantized.add_relu if relu else torch.ops.quantized.add
                new = self.graph.call_function(op, (inputs[0], inputs[1], scale, zero_point))
            else:
                dim = node.kwargs.get('dim', node.args[1] if len(node.args) > 1 else 0)
                new = self.graph.call_function(torch.ops.quantized.cat,
                                               (list(node.args[0]), dim, scale, zero_point))
        new.meta = dict(out_fq.meta)
        out_fq.replace_all_uses_with(new)
        for old in (out_fq, relu, node):
            if old is not None:
                self.graph.erase_node(old)
        self.quantized.add(new)
        return True

    def _passthrough(self, node: fx.Node) -> bool:
        inputs = tensor_inputs(node)
        if not inputs or inputs[0] not in self.quantized:
            return False
        if self.policy.kind(node, self.modules) != PASSTHROUGH:
            return False
        module = self.modules.get(node.target) if node.op == 'call_module' else None
        if isinstance(module, nn.Dropout):  # eval-mode dropout is the identity
            node.replace_all_uses_with(node.args[0])
            self.graph.erase_node(node)
            return False
        return True

    def _dequantize_inputs(self, node: fx.Node) -> None:
        def swap(arg: fx.Node) -> fx.Node:
            if arg not in self.quantized:
                return arg
            if arg not in self.dequantized:
                with self.graph.inserting_after(arg):
                    self.dequantized[arg] = self.graph.call_method('dequantize', (arg, ))
                    self.dequantized[arg].meta = dict(arg.meta)
            return self.dequantized[arg]

        node.args = map_arg(node.args, swap)
        node.kwargs = map_arg(node.kwargs, swap)

    @staticmethod
    def _activation_qparams(fake_quant: nn.Module, node: fx.Node):
        if is_per_channel(fake_quant) or quant_dtype(fake_quant) != torch.quint8:
            raise Int8LoweringError(
                f'{node.name}: torch int8 CPU kernels take per-tensor quint8 activations, '
                f'this fake-quant is {quant_dtype(fake_quant)}'
                f'{" per channel" if is_per_channel(fake_quant) else ""}; use a quint8 '
                'a_qscheme (TorchNativeQuantizer / OpenVINOQuantizer) or export to ONNX')
        return per_tensor_scalars(fake_quant)


def _int8_layer(layer: nn.Module, scale: float, zero_point: int) -> nn.Module:
    """The ``torch.ao.nn.quantized`` module computing ``layer`` in int8."""
    weight, bias = layer.folded_weight_bias()
    weight_fq = layer.weight_fake_quant
    if quant_dtype(weight_fq) != torch.qint8:
        raise Int8LoweringError('torch int8 CPU kernels take qint8 weights; got '
                                f'{quant_dtype(weight_fq)}')
    w_scale, w_zero_point = qparams(weight_fq)
    if is_per_channel(weight_fq):
        qweight = torch.quantize_per_channel(weight, w_scale.double(), w_zero_point.long(),
                                             int(weight_fq.ch_axis), torch.qint8)
    else:
        qweight = torch.quantize_per_tensor(weight, float(w_scale[0]), int(w_zero_point[0]),
                                            torch.qint8)
    if isinstance(layer, (QConv2d, QConvBn2d)):
        conv = layer.conv
        cls = nniq.ConvReLU2d if layer.with_relu else nnq.Conv2d
        module = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride,
                     conv.padding, conv.dilation, conv.groups, True)
    else:
        linear = layer.linear
        cls = nniq.LinearReLU if layer.with_relu else nnq.Linear
        module = cls(linear.in_features, linear.out_features)
    module.set_weight_bias(qweight, bias)
    module.scale = scale
    module.zero_point = zero_point
    return module


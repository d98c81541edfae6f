"""Which ops of a traced graph a backend quantizes, and how.

Every node of a traced graph falls in one kind:

* ``compute``: conv / linear modules (fused with a following BatchNorm and ReLU):
  inputs and output quantized, weights fake-quantized;
* ``binary``: elementwise add and concatenation: inputs and output quantized;
* ``passthrough``: ops that int8 kernels run on quantized tensors keeping the input's
  qparams (pooling, ReLU, reshapes); quantized only when their input is;
* ``float``: everything else, run on dequantized values.
"""
import operator
from dataclasses import dataclass, field
from typing import Callable, FrozenSet, Set, Tuple, Type

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

COMPUTE, BINARY, PASSTHROUGH, FLOAT = 'compute', 'binary', 'passthrough', 'float'


@dataclass
class QuantizationPolicy:
    """The op kinds a backend quantizes; backends (quantizers) subclass or edit it.

    Args:
        compute_modules (tuple): Module types quantized with their weights.
        passthrough_modules (tuple): Module types that keep the input's qparams.
        passthrough_functions (set): Functions that keep the input's qparams.
        passthrough_methods (set): Tensor methods that keep the input's qparams.
        binary_functions (set): Elementwise functions with quantized inputs/outputs.
        binary_methods (set): Tensor methods with quantized inputs/outputs.
        float_modules (set): Module class names kept float whatever they are
            (``no_observer_modules`` of the quantizer).
        no_input_quant (set): Op names (module class, function or method names) whose
            inputs are not quantized (``extra_*_prev_wo_fakequant``).
        no_output_quant (set): Op names whose outputs are not quantized
            (``extra_*_next_wo_fakequant``).
        fuse_relu (bool): Quantize after a ReLU that follows a conv, linear or add,
            not before it. Defaults to True.
    """

    compute_modules: Tuple[Type[nn.Module], ...] = (nn.Conv2d, nn.Linear)
    passthrough_modules: Tuple[Type[nn.Module], ...] = (
        nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Identity, nn.Dropout,
        nn.Flatten)
    passthrough_functions: Set[Callable] = field(default_factory=lambda: {
        F.relu, torch.relu, F.max_pool2d, F.avg_pool2d, F.adaptive_avg_pool2d,
        torch.flatten, F.dropout, operator.getitem, torch.reshape})
    passthrough_methods: Set[str] = field(default_factory=lambda: {
        'relu', 'view', 'reshape', 'flatten', 'contiguous', 'mean', 'squeeze', 'unsqueeze',
        'permute', 'transpose', 'detach'})
    binary_functions: Set[Callable] = field(default_factory=lambda: {
        operator.add, torch.add, torch.cat})
    binary_methods: Set[str] = field(default_factory=lambda: {'add'})
    float_modules: Set[str] = field(default_factory=set)
    no_input_quant: Set[str] = field(default_factory=set)
    no_output_quant: Set[str] = field(default_factory=set)
    fuse_relu: bool = True

    def op_names(self, node: fx.Node, modules: dict) -> FrozenSet[str]:
        """Names that ``no_*_quant`` and ``float_modules`` may use for ``node``."""
        if node.op == 'call_module':
            cls = type(modules[node.target])
            return frozenset({cls.__name__, f'{cls.__module__}.{cls.__qualname__}'})
        if node.op == 'call_function':
            name = getattr(node.target, '__name__', str(node.target))
            module = getattr(node.target, '__module__', None) or ''
            return frozenset({name, f'{module}.{name}'})
        if node.op == 'call_method':
            return frozenset({str(node.target)})
        return frozenset()

    def kind(self, node: fx.Node, modules: dict) -> str:
        """The kind of ``node`` (see the module docstring)."""
        if not isinstance(node.meta.get('value'), torch.Tensor):
            return FLOAT
        if self.op_names(node, modules) & self.float_modules:
            return FLOAT
        if node.op == 'call_module':
            module = modules[node.target]
            if isinstance(module, self.compute_modules):
                return COMPUTE
            if isinstance(module, self.passthrough_modules):
                return PASSTHROUGH
            return FLOAT
        if node.op == 'call_function':
            if node.target in self.binary_functions and _tensor_args(node) >= 2:
                return BINARY
            if node.target in self.passthrough_functions:
                return PASSTHROUGH
        if node.op == 'call_method':
            if node.target in self.binary_methods and _tensor_args(node) >= 2:
                return BINARY
            if node.target in self.passthrough_methods:
                return PASSTHROUGH
        return FLOAT

    @staticmethod
    def is_relu(node: fx.Node, modules: dict) -> bool:
        """Whether ``node`` is a ReLU (module, function or method)."""
        if node.op == 'call_module':
            return type(modules.get(node.target)) is nn.ReLU
        if node.op == 'call_function':
            return node.target in (F.relu, torch.relu)
        return node.op == 'call_method' and node.target == 'relu'


def _tensor_args(node: fx.Node) -> int:
    """How many tensor-valued nodes ``node`` takes (a list argument counts its items)."""
    return len(tensor_inputs(node))


def tensor_inputs(node: fx.Node) -> list:
    """The tensor-valued input nodes of ``node``, in argument order."""
    found: list = []

    def visit(arg):
        if isinstance(arg, fx.Node):
            if isinstance(arg.meta.get('value'), torch.Tensor) and arg not in found:
                found.append(arg)
        elif isinstance(arg, (list, tuple)):
            for item in arg:
                visit(item)
        elif isinstance(arg, dict):
            for item in arg.values():
                visit(item)

    visit(node.args)
    visit(node.kwargs)
    return found

"""Export a prepared graph as a QDQ ONNX model (``QuantizeLinear`` /
``DequantizeLinear`` around float ops), the format onnxruntime, OpenVINO and
TensorRT turn into int8 kernels.

Each fake-quant becomes a fixed ``fake_quantize_per_*_affine`` with its current
qparams, which torch's exporter writes as a Q/DQ pair; each conv / linear gets its
BN-folded weight; then every ``QuantizeLinear`` of a constant weight is folded into an
int8 initializer, so the file stores int8 weights and a DQ, as runtimes expect.
"""
import copy
import os
import tempfile
import warnings
from typing import Any, Dict, Sequence

import numpy as np
import onnx
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

from ..fake_quant_access import is_fake_quant, is_per_channel, qparams, quant_dtype
from ..qat_modules import QAT_MODULES, QConv2d, QConvBn2d


class FixedFakeQuantize(nn.Module):
    """A fake-quant with constant qparams, in an 8-bit container ONNX can express."""

    def __init__(self, fake_quant: nn.Module) -> None:
        super().__init__()
        scale, zero_point = qparams(fake_quant)
        self.per_channel = is_per_channel(fake_quant)
        self.axis = int(getattr(fake_quant, 'ch_axis', 0)) if self.per_channel else 0
        # a narrower range (4 bit, symmetric -127..127) already bounds the values
        # its scale was computed for; ONNX stores them in int8 / uint8
        signed = quant_dtype(fake_quant) == torch.qint8
        self.quant_min, self.quant_max = (-128, 127) if signed else (0, 255)
        self.register_buffer('scale', scale)
        self.register_buffer('zero_point', zero_point)
        self.scalar_qparams = (float(scale[0]), int(zero_point[0]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.per_channel:
            return torch.fake_quantize_per_channel_affine(x, self.scale, self.zero_point,
                                                          self.axis, self.quant_min,
                                                          self.quant_max)
        scale, zero_point = self.scalar_qparams
        return torch.fake_quantize_per_tensor_affine(x, scale, zero_point, self.quant_min,
                                                     self.quant_max)


class ExportLayer(nn.Module):
    """A conv / linear with its folded float weight, fake-quantized with fixed qparams."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        weight, bias = layer.folded_weight_bias()
        self.register_buffer('weight', weight.clone())
        self.register_buffer('bias', None if bias is None else bias.clone())
        self.weight_fake_quant = FixedFakeQuantize(layer.weight_fake_quant)
        self.with_relu = layer.with_relu
        self.conv = layer.conv if isinstance(layer, (QConv2d, QConvBn2d)) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight_fake_quant(self.weight)
        if self.conv is not None:
            c = self.conv
            out = F.conv2d(x, weight, self.bias, c.stride, c.padding, c.dilation, c.groups)
        else:
            out = F.linear(x, weight, self.bias)
        return F.relu(out) if self.with_relu else out


class _ExportWrapper(nn.Module):
    """``graph(inputs, *constant_args)`` as a module of the tensor inputs only."""

    def __init__(self, graph_module: fx.GraphModule, constant_args: Sequence[Any]) -> None:
        super().__init__()
        self.graph_module = graph_module
        self.constant_args = tuple(constant_args)

    def forward(self, inputs: torch.Tensor) -> Any:
        return self.graph_module(inputs, *self.constant_args)


def export_module(prepared: fx.GraphModule) -> fx.GraphModule:
    """A copy of ``prepared`` with fixed fake-quants and folded layers."""
    gm = copy.deepcopy(prepared)
    replaced: list = []
    for name, module in list(gm.named_modules()):
        if not name or any(name.startswith(f'{done}.') for done in replaced):
            continue
        if isinstance(module, QAT_MODULES):
            replaced.append(name)
            _replace(gm, name, ExportLayer(module))
        elif is_fake_quant(module):
            _replace(gm, name, FixedFakeQuantize(module))
    gm.eval()
    return gm


def export_qdq_onnx(prepared: fx.GraphModule, inputs: torch.Tensor, path: str,
                    constant_args: Sequence[Any] = (), opset_version: int = 18,
                    dynamic_batch: bool = True) -> str:
    """Write ``prepared`` (its tensor-input graph) to ``path`` as QDQ ONNX, atomically.

    Args:
        prepared (GraphModule): A prepared graph with calibrated fake-quants.
        inputs (Tensor): An example input batch.
        path (str): Output file.
        constant_args (Sequence): Arguments after ``inputs`` in the graph's
            signature (``data_samples``, ``mode`` of an OpenMMLab model).
        opset_version (int): Defaults to 18.
        dynamic_batch (bool): Let the batch size vary. Defaults to True.
    """
    wrapper = _ExportWrapper(export_module(prepared), constant_args).eval()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    dynamic_shapes = ({'inputs': {0: torch.export.Dim('batch', min=1)}}
                      if dynamic_batch else None)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        raw = os.path.join(tmp, 'raw.onnx')
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(wrapper, (inputs, ), raw, input_names=['inputs'],
                              opset_version=opset_version, dynamo=True,
                              dynamic_shapes=dynamic_shapes, external_data=False,
                              verbose=False)
        model = onnx.load(raw)
        fold_weight_quantize_linear(model)
        onnx.checker.check_model(model)
        final = os.path.join(tmp, 'model.onnx')
        onnx.save(model, final)
        os.replace(final, path)
    return path


def fold_weight_quantize_linear(model: onnx.ModelProto) -> int:
    """Replace every ``QuantizeLinear`` of a constant by an int8 initializer.

    Returns how many were folded.
    """
    graph = model.graph
    constants: Dict[str, np.ndarray] = {
        init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == 'Constant' and node.attribute:
            constants[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    folded = 0
    for node in list(graph.node):
        if node.op_type != 'QuantizeLinear' or node.input[0] not in constants:
            continue
        if len(node.input) < 3 or node.input[1] not in constants \
                or node.input[2] not in constants:
            continue
        value, scale = constants[node.input[0]], constants[node.input[1]]
        zero_point = constants[node.input[2]]
        axis = next((a.i for a in node.attribute if a.name == 'axis'), 1)
        if scale.ndim == 1 and scale.size > 1:
            shape = [1] * value.ndim
            shape[axis] = -1
            scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
        info = np.iinfo(zero_point.dtype)
        quantized = np.clip(np.rint(value / scale) + zero_point.astype(np.int32),
                            info.min, info.max).astype(zero_point.dtype)
        graph.initializer.append(numpy_helper.from_array(quantized, node.output[0]))
        graph.node.remove(node)
        folded += 1
    used = {name for node in graph.node for name in node.input}
    used |= {output.name for output in graph.output}
    for init in list(graph.initializer):
        if init.name not in used:
            graph.initializer.remove(init)
    return folded


def _replace(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, attr = name.rpartition('.')
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, attr, new)

"""Quantizers: fake-quantized graphs, torch int8 kernels and QDQ ONNX."""
import collections
import operator

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn as nn
from torch.ao.quantization import disable_fake_quant

from mmrazor.models.quantizers import Int8LoweringError, QConvBn2d, QLinear, SharedFakeQuantize
from mmrazor.registry import MODELS

from .helpers import (
    AFFINE_QCONFIG,
    GLOBAL_QCONFIG,
    calibrate,
    prepared_tensor_graph,
    small_classifier,
)


def _quantizer(kind='mmrazor.OpenVINOQuantizer', qconfig=AFFINE_QCONFIG, **kwargs):
    return MODELS.build(dict(type=kind, global_qconfig=qconfig, **kwargs))


def _calibrated(quantizer, model=None):
    model, prepared = prepared_tensor_graph(quantizer, model or small_classifier())
    prepared.eval()
    torch.manual_seed(1)
    calibrate(prepared, [torch.rand(8, 1, 16, 16) for _ in range(4)])
    return model, prepared


def _node_modules(gm):
    modules = dict(gm.named_modules())
    return [modules[n.target] for n in gm.graph.nodes if n.op == 'call_module']


def test_prepare_fuses_every_conv_bn_relu_and_quantizes_activations():
    model, prepared = prepared_tensor_graph(_quantizer(), small_classifier())
    called = _node_modules(prepared)
    assert not any(isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)) for m in called)
    num_convs = sum(isinstance(m, nn.Conv2d) for m in model.modules())
    assert sum(isinstance(m, QConvBn2d) for m in called) == num_convs
    assert sum(isinstance(m, QLinear) for m in called) == 1
    # conv-bn-relu fused; the residual add with its relu is quantized after the relu
    assert sum(getattr(m, 'with_relu', False) for m in called) == 1 + 4  # stem + 1st convs
    code = prepared.code
    assert 'post_act_fake_quant' in code and 'add' in code
    # the fused modules share the architecture's parameters (QAT trains the model)
    fused = next(m for m in called if isinstance(m, QConvBn2d))
    assert any(fused.conv.weight is p for p in model.parameters())


def test_fake_quant_off_is_the_float_model_and_on_is_close():
    model, prepared = _calibrated(_quantizer())
    x = torch.rand(4, 1, 16, 16)
    with torch.no_grad():
        reference = model(x, mode='tensor')
        quantized = prepared(x)
        prepared.apply(disable_fake_quant)
        unquantized = prepared(x)
    torch.testing.assert_close(unquantized, reference, atol=1e-5, rtol=1e-5)
    error = (quantized - reference).abs().max()
    assert 0 < error < 0.1 * reference.abs().max()


def test_qconvbn_eval_equals_conv_with_folded_quantized_weight():
    _, prepared = _calibrated(_quantizer())
    fused = next(m for m in prepared.modules() if isinstance(m, QConvBn2d))
    x = torch.randn(2, fused.conv.in_channels, 8, 8)
    weight, bias = fused.folded_weight_bias()
    with torch.no_grad():
        expected = fused.conv._conv_forward(x, fused.weight_fake_quant(weight), bias)
        expected = torch.relu(expected) if fused.with_relu else expected
        torch.testing.assert_close(fused(x), expected, atol=1e-5, rtol=1e-5)


def test_qat_step_trains_the_architecture_through_the_graph():
    model, prepared = _calibrated(_quantizer())
    prepared.train()
    conv = next(m for m in prepared.modules() if isinstance(m, QConvBn2d))
    before = conv.conv.weight.detach().clone()
    running_mean = conv.bn.running_mean.clone()
    optimizer = torch.optim.SGD(prepared.parameters(), lr=0.1)
    prepared(torch.rand(8, 1, 16, 16)).sum().backward()
    optimizer.step()
    assert not torch.equal(conv.conv.weight, before)
    assert not torch.equal(conv.bn.running_mean, running_mean)  # BN still learns stats
    conv.freeze_bn = True
    running_mean = conv.bn.running_mean.clone()
    prepared(torch.rand(8, 1, 16, 16))
    assert torch.equal(conv.bn.running_mean, running_mean)


def _output_scale(prepared):
    return prepared.get_submodule([n for n in prepared.graph.nodes
                                   if n.op == 'output'][0].args[0].target).scale.item()


def test_int8_model_runs_on_quantized_kernels_and_matches_fake_quant():
    quantizer = _quantizer()
    _, prepared = _calibrated(quantizer)
    int8 = quantizer.convert_to_int8(prepared)
    kinds = collections.Counter(type(m).__name__ for m in _node_modules(int8))
    assert kinds['ConvReLU2d'] + kinds['Conv2d'] == 10 and kinds['Linear'] == 1
    assert all(type(m).__module__.startswith('torch.ao.nn') for m in _node_modules(int8)
               if type(m).__name__ in ('Conv2d', 'ConvReLU2d', 'Linear'))
    assert 'quantized.add_relu' in int8.code
    x = torch.rand(16, 1, 16, 16)
    with torch.no_grad():
        fake, real = prepared(x), int8(x)
    assert real.dtype == torch.float32
    # int8 kernels requantize intermediate sums with their own rounding: a few steps
    scale = _output_scale(prepared)
    assert (fake - real).abs().max() <= 4 * scale
    assert (fake - real).abs().mean() <= 0.5 * scale
    assert (fake.argmax(1) == real.argmax(1)).float().mean() >= 0.9
    # the prepared model is untouched
    assert any(isinstance(m, QConvBn2d) for m in prepared.modules())


def test_qdq_onnx_runs_in_onnxruntime_with_int8_weights_and_any_batch(tmp_path):
    quantizer = _quantizer()
    _, prepared = _calibrated(quantizer)
    path = quantizer.export_onnx(prepared, torch.rand(2, 1, 16, 16),
                                 str(tmp_path / 'model.onnx'), constant_args=(None, 'tensor'))
    model = onnx.load(path)
    ops = collections.Counter(node.op_type for node in model.graph.node)
    assert ops['Conv'] == 10 and ops['QuantizeLinear'] > 0 and ops['DequantizeLinear'] > 0
    weights = {init.name: init for init in model.graph.initializer}
    conv_weights = [weights[n.input[0]] for n in model.graph.node
                    if n.op_type == 'DequantizeLinear' and n.input[0] in weights
                    and len(onnx.numpy_helper.to_array(weights[n.input[0]]).shape) == 4]
    assert len(conv_weights) == 10
    assert all(w.data_type == onnx.TensorProto.INT8 for w in conv_weights)
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    x = torch.rand(3, 1, 16, 16)  # another batch size than exported
    with torch.no_grad():
        fake = prepared(x).numpy()
    out = session.run(None, {'inputs': x.numpy()})[0]
    scale = _output_scale(prepared)
    assert np.abs(out - fake).max() <= 2 * scale
    assert not list(tmp_path.glob('tmp*'))  # atomic: nothing else left behind


def test_tensorrt_quantizer_takes_signed_symmetric_activations_only():
    with pytest.raises(ValueError, match=r"TensorRTQuantizer.*per_tensor_affine.*"
                                         r"\['per_tensor_symmetric'\]"):
        _quantizer('mmrazor.TensorRTQuantizer', AFFINE_QCONFIG)
    with pytest.raises(ValueError, match=r"TensorRTQuantizer \(backend 'tensorrt'\) cannot run "
                                         r"a_qscheme qdtype='quint8'; it supports qdtype in "
                                         r"\['qint8'\]"):
        _quantizer('mmrazor.TensorRTQuantizer', GLOBAL_QCONFIG)
    signed = dict(GLOBAL_QCONFIG, a_qscheme=dict(qdtype='qint8', bit=8, is_symmetry=True))
    with pytest.raises(ValueError, match=r"TorchNativeQuantizer.*a_qscheme qdtype='qint8'.*"
                                         r"\['quint8'\]"):
        _quantizer('mmrazor.TorchNativeQuantizer', signed)
    unsigned_weights = dict(GLOBAL_QCONFIG,
                            w_qscheme=dict(GLOBAL_QCONFIG['w_qscheme'], qdtype='quint8'))
    with pytest.raises(ValueError, match=r"OpenVINOQuantizer.*w_qscheme qdtype='quint8'"):
        _quantizer('mmrazor.OpenVINOQuantizer', unsigned_weights)
    quantizer = _quantizer('mmrazor.TensorRTQuantizer', signed)
    _, prepared = _calibrated(quantizer)
    with pytest.raises(Int8LoweringError, match='quint8 activations'):
        quantizer.convert_to_int8(prepared)


def test_extra_redundant_fakequants_and_no_observer_modules_change_the_graph():
    base = _quantizer('mmrazor.TorchNativeQuantizer')
    _, graph = prepared_tensor_graph(base, small_classifier())
    assert {'neck_gap_shared_fake_quant', 'view_shared_fake_quant'} <= set(graph._modules)
    assert isinstance(graph.neck_gap_shared_fake_quant, SharedFakeQuantize)
    quantizer = _quantizer('mmrazor.TorchNativeQuantizer', extra_redundant_fakequants=dict(
        extra_module_next_wo_fakequant=('torch.nn.modules.pooling.AdaptiveAvgPool2d', ),
        extra_method_next_wo_fakequant=('view', )))
    _, graph = prepared_tensor_graph(quantizer, small_classifier())
    assert not {'neck_gap_shared_fake_quant', 'view_shared_fake_quant'} & set(graph._modules)
    with pytest.raises(KeyError, match='extra_module_prev_wo_fakequant'):
        _quantizer('mmrazor.TorchNativeQuantizer',
                   extra_redundant_fakequants=dict(extra_modules_next=()))
    # a function named by its dotted path is the function itself
    base_modules = set(prepared_tensor_graph(base, small_classifier())[1]._modules)
    by_path, by_object = (set(prepared_tensor_graph(_quantizer(
        'mmrazor.TorchNativeQuantizer',
        extra_redundant_fakequants=dict(extra_function_next_wo_fakequant=(add, ))),
        small_classifier())[1]._modules) for add in ('operator.add', operator.add))
    assert by_path == by_object
    # the last block's add (+ ReLU) output no longer fake-quantized
    assert 'backbone_layer2_1_relu_1_post_act_fake_quant' in base_modules - by_path
    floats = _quantizer('mmrazor.TorchNativeQuantizer', no_observer_modules=['Linear'])
    _, graph = prepared_tensor_graph(floats, small_classifier())
    assert not any(isinstance(m, QLinear) for m in _node_modules(graph))


def test_academic_quantizer_overrides_by_module_name_and_type():
    four_bit = dict(AFFINE_QCONFIG, w_qscheme=dict(W_QSCHEME_4BIT))
    quantizer = MODELS.build(dict(
        type='mmrazor.AcademicQuantizer',
        qconfig_mapping=dict(global_qconfig=AFFINE_QCONFIG,
                             object_type=[('torch.nn.Linear', four_bit)],
                             module_name=[('backbone.conv1', None)])))
    model, graph = prepared_tensor_graph(quantizer, small_classifier())
    called = _node_modules(graph)
    assert any(m is model.backbone.conv1 for m in called)  # left float
    linear = next(m for m in called if isinstance(m, QLinear))
    assert (linear.weight_fake_quant.quant_min, linear.weight_fake_quant.quant_max) == (-7, 7)
    conv = next(m for m in called if isinstance(m, QConvBn2d))
    assert conv.weight_fake_quant.quant_max == 127
    with pytest.raises(KeyError, match='global_qconfig'):
        MODELS.build(dict(type='mmrazor.AcademicQuantizer',
                          qconfig_mapping=dict(object_type=[])))


W_QSCHEME_4BIT = dict(qdtype='qint8', bit=4, is_symmetry=True, is_symmetric_range=True)


def test_zero_bn_gamma_trains_without_nan_and_matches_folding():
    """mmpretrain's zero_init_residual sets the last BN gamma of a block to 0."""
    model = small_classifier()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.data[::2] = 0
    quantizer = _quantizer()
    _, prepared = _calibrated(quantizer, model)
    prepared.train()
    out = prepared(torch.rand(4, 1, 16, 16))
    out.sum().backward()
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(p.grad).all() for p in prepared.parameters()
               if p.grad is not None)
    prepared.eval()
    fused = next(m for m in prepared.modules() if isinstance(m, QConvBn2d))
    x = torch.randn(2, fused.conv.in_channels, 8, 8)
    weight, bias = fused.folded_weight_bias()
    with torch.no_grad():
        folded = fused.conv._conv_forward(x, weight, bias)
        folded = torch.relu(folded) if fused.with_relu else folded
        zeroed = fused.bn.weight == 0
        torch.testing.assert_close(fused(x)[:, zeroed], folded[:, zeroed])


def test_per_channel_weight_qparams_have_their_shape_after_prepare():
    lsq = dict(AFFINE_QCONFIG, w_observer=dict(type='mmrazor.LSQPerChannelObserver'),
               a_observer=dict(type='mmrazor.LSQObserver'),
               w_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'),
               a_fake_quant=dict(type='mmrazor.LearnableFakeQuantize'))
    _, prepared = prepared_tensor_graph(_quantizer(qconfig=lsq), small_classifier())
    fused = next(m for m in prepared.modules() if isinstance(m, QConvBn2d))
    assert fused.weight_fake_quant.scale.shape == (fused.conv.out_channels, )


def test_untraceable_model_and_float_leaves_say_what_to_skip():
    class Untraceable(nn.Module):
        def forward(self, inputs, data_samples=None, mode='tensor'):
            if not isinstance(inputs, torch.Tensor):  # a proxy is no tensor
                raise TypeError('inputs must be a tensor')
            return inputs

    class LoopsOverBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.head = _LoopingHead()

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return self.head.run(self.conv(inputs))

    quantizer = _quantizer()
    with pytest.raises(Exception, match="skipped_methods"):
        quantizer.trace(Untraceable(), {'inputs': torch.rand(1, 1, 4, 4)},
                        {'mode': 'tensor'})
    with pytest.warns(UserWarning, match=r"1 conv/linear layers .* stay float.*head\.fc.*"
                                         r"head\.run.*skipped_methods"):
        quantizer.trace(LoopsOverBatch(), {'inputs': torch.rand(1, 1, 6, 6)},
                        {'mode': 'tensor'})


class _LoopingHead(nn.Module):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 2)

    def run(self, feats):
        return torch.stack([self.fc(f.flatten()) for f in feats])  # per-sample loop

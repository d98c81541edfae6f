"""Small real models and qconfigs for the quantizer tests."""
import copy

import torch

from mmrazor.engine.runner.quantization_loops import freeze_qparams, observe_qparams
from mmrazor.registry import MODELS

W_QSCHEME = dict(qdtype='qint8', bit=8, is_symmetry=True, is_symmetric_range=True)
# MMRazor 1.x's OpenVINO / TensorRT global qconfig (spec 4.4)
GLOBAL_QCONFIG = dict(
    w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'),
    a_observer=dict(type='mmrazor.MovingAverageMinMaxObserver'),
    w_fake_quant=dict(type='mmrazor.FakeQuantize'),
    a_fake_quant=dict(type='mmrazor.FakeQuantize'),
    w_qscheme=W_QSCHEME,
    a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=True, averaging_constant=0.1))
AFFINE_QCONFIG = dict(GLOBAL_QCONFIG,
                      a_qscheme=dict(qdtype='quint8', bit=8, is_symmetry=False))
SKIPPED_METHODS = ['mmcls.models.heads.ClsHead._get_loss',
                   'mmcls.models.heads.ClsHead._get_predictions']


def small_classifier(in_channels: int = 1, num_classes: int = 10) -> torch.nn.Module:
    """A real mmpretrain ResNet-CIFAR classifier, small enough for CPU tests."""
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='mmcls.ImageClassifier',
        backbone=dict(type='mmcls.ResNet_CIFAR', depth=18, num_stages=2,
                      in_channels=in_channels, stem_channels=8, base_channels=8,
                      strides=(1, 2), dilations=(1, 1), out_indices=(1, )),
        neck=dict(type='mmcls.GlobalAveragePooling'),
        head=dict(type='mmcls.LinearClsHead', num_classes=num_classes, in_channels=16),
        data_preprocessor=dict(type='mmcls.ClsDataPreprocessor')))
    # non-trivial BN statistics, so folding matters
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
        if hasattr(module, 'inplace'):
            module.inplace = False
    return model.eval()


def calibrate(model: torch.nn.Module, batches) -> None:
    """Observers on and fake-quant off for ``batches``, then the reverse."""
    observe_qparams(model)
    with torch.no_grad():
        for batch in batches:
            model(batch)
    freeze_qparams(model)


def prepared_tensor_graph(quantizer, model, shape=(2, 1, 16, 16)):
    """The prepared tensor-mode graph of ``model`` (a deep copy: tests stay independent)."""
    model = copy.deepcopy(model)
    graph = quantizer.trace(model, {'inputs': torch.rand(shape), 'data_samples': None},
                            {'mode': 'tensor'})
    return model, quantizer.prepare(model, graph)

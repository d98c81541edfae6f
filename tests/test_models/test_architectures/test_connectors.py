"""The distillation connectors: shapes, values, gradients and argument errors."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import mmrazor.models.architectures.connectors as connectors
from mmrazor.models.architectures.connectors import (
    BYOTConnector,
    CRDConnector,
    FBKDStudentConnector,
    FBKDTeacherConnector,
    MGDConnector,
    NormConnector,
    OFDTeacherConnector,
    Paraphraser,
    TorchFunctionalConnector,
    TorchNNConnector,
    Translator,
)
from mmrazor.models.losses.fbkd_loss import FBKDLoss
from mmrazor.registry import MODELS

NAMES = ['BYOTConnector', 'ConvModuleConnector', 'CRDConnector', 'FBKDStudentConnector',
         'FBKDTeacherConnector', 'MGDConnector', 'NormConnector', 'OFDTeacherConnector',
         'Paraphraser', 'TorchFunctionalConnector', 'TorchNNConnector', 'Translator']


def _grads(module: nn.Module) -> bool:
    return all(p.grad is not None for p in module.parameters())


def test_all_connectors_are_registered_and_exported():
    assert sorted(NAMES) == sorted(n for n in connectors.__all__ if n != 'BaseConnector')
    for name in NAMES:
        assert MODELS.get(f'mmrazor.{name}') is getattr(connectors, name)


def test_convmodule_connector_equals_conv_and_bn():
    connector = MODELS.build(dict(type='mmrazor.ConvModuleConnector', in_channel=8,
                                  out_channel=16, norm_cfg=dict(type='BN'),
                                  act_cfg=None))
    conv, bn = connector.conv_module.conv, connector.conv_module.bn
    assert conv.bias is None  # bias='auto' with a norm
    nn.init.normal_(bn.weight)
    nn.init.normal_(bn.bias)
    x = torch.randn(4, 8, 5, 5)
    out = connector(x)
    y = F.conv2d(x, conv.weight)
    mean = y.mean(dim=(0, 2, 3), keepdim=True)
    var = y.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    expected = (y - mean) / torch.sqrt(var + bn.eps) * bn.weight.view(1, -1, 1, 1) \
        + bn.bias.view(1, -1, 1, 1)
    assert out.shape == (4, 16, 5, 5)
    assert torch.allclose(out, expected, atol=1e-5)
    out.sum().backward()
    assert _grads(connector)


def test_convmodule_connector_defaults_to_relu_like_mmrazor():
    x = torch.randn(2, 4, 5, 5)
    relu = MODELS.build(dict(type='ConvModuleConnector', in_channel=4, out_channel=6))
    assert isinstance(relu.conv_module.activate, nn.ReLU)
    conv = relu.conv_module.conv
    assert torch.allclose(relu(x), F.relu(F.conv2d(x, conv.weight, conv.bias)), atol=1e-6)
    linear = MODELS.build(dict(type='ConvModuleConnector', in_channel=4, out_channel=6,
                               act_cfg=None))
    linear.load_state_dict(relu.state_dict())
    assert not linear.conv_module.with_activation
    assert linear(x).min() < 0 <= relu(x).min()


def test_convmodule_connector_arguments():
    connector = MODELS.build(dict(type='ConvModuleConnector', in_channel=4, out_channel=6,
                                  kernel_size=3, stride=2, padding=1,
                                  act_cfg=dict(type='ReLU')))
    out = connector(torch.randn(2, 4, 8, 8))
    assert out.shape == (2, 6, 4, 4) and out.min() >= 0


def test_norm_connector():
    connector = NormConnector(in_channels=6, norm_cfg=dict(type='BN'))
    x = torch.randn(3, 6, 4, 4)
    expected = F.batch_norm(x, None, None, training=True)
    assert torch.allclose(connector(x), expected, atol=1e-5)


def test_torch_connectors():
    x = torch.randn(2, 3, 8, 8)
    pool = TorchFunctionalConnector('avg_pool2d', func_args=dict(kernel_size=2))
    assert torch.equal(pool(x), F.avg_pool2d(x, 2))
    assert torch.equal(TorchFunctionalConnector('relu')(x), F.relu(x))
    gap = TorchNNConnector('AdaptiveAvgPool2d', module_args=dict(output_size=1))
    assert torch.allclose(gap(x), x.mean(dim=(2, 3), keepdim=True))
    conv = TorchNNConnector('Conv2d', dict(in_channels=3, out_channels=5, kernel_size=1))
    conv(x).sum().backward()
    assert _grads(conv)


def test_torch_connectors_default_to_no_arguments():
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(TorchFunctionalConnector(function_name='relu')(x), F.relu(x))
    assert torch.equal(TorchNNConnector(module_name='ReLU')(x), F.relu(x))
    with pytest.raises(ValueError, match="TorchFunctionalConnector needs function_name, "
                                         'the name of a function of torch.nn.functional, '
                                         "e.g. function_name='avg_pool2d'"):
        TorchFunctionalConnector()
    with pytest.raises(ValueError, match="TorchNNConnector needs module_name, the name of "
                                         "a module class of torch.nn, e.g. "
                                         "module_name='AvgPool2d'"):
        MODELS.build(dict(type='TorchNNConnector'))


def test_torch_connectors_reject_unknown_names():
    with pytest.raises(ValueError, match="'avg_pool_2d' is not a function of torch.nn."
                                         'functional; closest: .*avg_pool2d'):
        TorchFunctionalConnector('avg_pool_2d')
    with pytest.raises(ValueError, match="'AdaptiveAvgPool' is not a module class of "
                                         'torch.nn; closest: .*AdaptiveAvgPool2d'):
        TorchNNConnector('AdaptiveAvgPool')
    with pytest.raises(ValueError, match='not a module class'):
        TorchNNConnector('functional')


def test_ofd_teacher_connector():
    connector = OFDTeacherConnector()
    x = torch.randn(2, 3, 4, 4)
    with pytest.raises(RuntimeError, match='init_ofd_connectors'):
        connector(x)
    margin = torch.tensor([-0.5, -1.0, 0.0]).view(1, 3, 1, 1)
    connector.init_margin(margin)
    assert torch.equal(connector(x), torch.max(x, margin))
    assert torch.equal(connector.state_dict()['margin'], margin)


@pytest.mark.parametrize('expansion, stride, size, in_channel, out_channel', [
    (1, 2, 16, 16, 64),   # BasicBlock ResNet on CIFAR: two halvings to 4x4
    (4, 1, 4, 8, 16),     # the defaults, the feature already 4x4
])
def test_byot_connector(expansion, stride, size, in_channel, out_channel):
    connector = BYOTConnector(in_channel, out_channel, num_classes=10,
                              expansion=expansion, stride=stride)
    x = torch.randn(2, in_channel * expansion, size, size, requires_grad=True)
    feat, logits = connector(x)
    assert feat.shape == (2, out_channel * expansion)
    assert logits.shape == (2, 10)
    (feat.sum() + logits.sum()).backward()
    assert x.grad is not None and connector.fc.weight.grad is not None
    assert connector.attention[0][0].weight.grad is not None


def test_byot_connector_errors():
    with pytest.raises(ValueError, match='must be a power of 2.*48 / 16'):
        BYOTConnector(16, 48, num_classes=10)
    connector = BYOTConnector(8, 8, num_classes=10, expansion=1, pool_size=2)
    with pytest.raises(ValueError, match=r'left a \(2, 2\) map'):
        connector(torch.randn(2, 8, 4, 4))


def test_crd_connector():
    connector = CRDConnector(dim_in=32, dim_out=16)
    out = connector(torch.randn(3, 8, 2, 2))
    assert out.shape == (3, 16)
    assert torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)


@pytest.mark.parametrize('use_bn', [False, True])
def test_factor_transfer_connectors(use_bn):
    x = torch.randn(2, 8, 6, 6)
    paraphraser = Paraphraser(8, 4, use_bn=use_bn)
    assert paraphraser(x).shape == (2, 8, 6, 6)
    factor = Paraphraser(8, 4, phase='train', use_bn=use_bn)(x)
    assert factor.shape == (2, 4, 6, 6)
    translator = Translator(16, 4, use_bn=use_bn)
    translated = translator(torch.randn(2, 16, 6, 6))
    assert translated.shape == factor.shape
    F.l1_loss(translated, factor.detach()).backward()
    assert _grads(translator)


def test_paraphraser_rejects_unknown_phase():
    with pytest.raises(ValueError, match=r"phase must be one of \('pretrain', 'train'\)"):
        Paraphraser(8, 4, phase='finetune')


@pytest.mark.parametrize('mode', ['gaussian', 'embedded_gaussian', 'dot_product',
                                  'concatenation'])
def test_fbkd_connectors_feed_fbkd_loss(mode):
    kwargs = dict(in_channels=8, reduction=2, mode=mode, sub_sample=True,
                  maxpool_stride=2)
    student, teacher = FBKDStudentConnector(**kwargs), FBKDTeacherConnector(**kwargs)
    s_feat = torch.randn(2, 8, 8, 8, requires_grad=True)
    t_feat = torch.randn(2, 8, 8, 8)
    s_out, t_out = student(s_feat), teacher(t_feat)
    assert [tuple(t.shape) for t in s_out] == [(2, 1, 8, 8), (2, 8, 1, 1), (2, 8),
                                               (2, 1, 8, 8), (2, 8, 8, 8), (2, 8, 8, 8)]
    assert [tuple(t.shape) for t in t_out] == [(2, 1, 8, 8), (2, 8, 1, 1), (2, 1, 8, 8),
                                               (2, 8, 8, 8), (2, 8, 8, 8)]
    assert torch.allclose(t_out[0].sum(dim=(1, 2, 3)), torch.full((2, ), 64.))
    assert torch.allclose(t_out[1].sum(dim=(1, 2, 3)), torch.full((2, ), 8.))
    assert t_out[4] is t_feat
    assert torch.allclose(t_out[2], t_feat.mean(dim=1, keepdim=True))
    FBKDLoss()(s_out, t_out).backward()
    assert s_feat.grad is not None
    for layer in (student.channel_wise_adaptation, student.spatial_wise_adaptation,
                  student.adaptation_layers, student.non_local_adaptation):
        assert _grads(layer)
    assert teacher.teacher_non_local.conv_out.bn.weight.grad is not None


def test_fbkd_connectors_keep_mmrazor_names_and_identity_start():
    student, teacher = FBKDStudentConnector(8), FBKDTeacherConnector(8)
    assert any(k.startswith('student_non_local.') for k in student.state_dict())
    assert any(k.startswith('teacher_non_local.') for k in teacher.state_dict())
    x = torch.randn(2, 8, 4, 4)
    # zeros_init=True (the default): the non-local block starts as the identity
    assert torch.equal(teacher(x)[3], x)
    moved = FBKDTeacherConnector(8, zeros_init=False)(x)[3]
    assert not torch.allclose(moved, x)
    no_norm = FBKDTeacherConnector(8, norm_cfg=None)
    assert no_norm.non_local.conv_out.norm_cfg is None


@pytest.mark.parametrize('mode', ['gaussian', 'dot_product'])
def test_fbkd_sub_sample_pools_by_two_then_maxpool_stride(mode):
    """As in MMRazor 1.x: mmcv's 2x2 pooling, then ``maxpool_stride``."""
    x = torch.randn(1, 8, 16, 16)
    for sub_sample, stride, keys in ((False, 4, 256), (True, 2, 16), (True, 4, 4)):
        block = FBKDStudentConnector(8, mode=mode, sub_sample=sub_sample,
                                     maxpool_stride=stride).non_local
        assert block.g(x).flatten(2).shape[-1] == keys
        phi = getattr(block, 'phi', nn.Identity())  # gaussian: none without sub_sample
        assert phi(x).flatten(2).shape[-1] == keys
        assert block(x).shape == x.shape


def test_fbkd_connector_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be one of .*'dot_product'.*got 'dot'"):
        FBKDStudentConnector(8, mode='dot')


def test_mgd_connector():
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    connector = MGDConnector(student_channels=8, teacher_channels=16)
    out = connector(student)
    assert out.shape == (2, 16, 4, 4)
    out.sum().backward()
    assert _grads(connector) and student.grad is not None
    assert MGDConnector(8, 8).align is None
    assert MGDConnector(8, 16, mask_on_channel=True)(student).shape == (2, 16, 4, 4)


def test_mgd_connector_mask_fraction():
    x = torch.randn(2, 4, 4, 4)
    unmasked = MGDConnector(4, 4, lambda_mgd=0.0)
    assert torch.equal(unmasked(x), unmasked.generation(x))
    masked = MGDConnector(4, 4, lambda_mgd=1.0, mask_on_channel=True)
    assert torch.equal(masked(x), masked.generation(torch.zeros_like(x)))
    with pytest.raises(ValueError, match=r'lambda_mgd .* must be in \[0, 1\], got 1.5'):
        MGDConnector(4, 4, lambda_mgd=1.5)

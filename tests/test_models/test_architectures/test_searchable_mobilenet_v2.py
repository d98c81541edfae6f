"""The SPOS MobileNet search space: the ``Identity`` candidate, the searchable backbone
(the space of MMRazor's config under both its type names, MMRazor's module names,
channels, options, freezing, gradient checkpointing, bad arguments) and that the
supernet with a random subnet chosen computes exactly what the exported static subnet
computes."""
import os.path as osp
import random

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmrazor.models import Identity, SearchableMobileNetV2
from mmrazor.models.mutables import BaseMutable, OneShotMutableOP
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet

from ...conftest import REPO_ROOT

# one_thread: an autouse fixture, active here once imported
from .test_searchable_shufflenet import one_thread  # noqa: F401

SPACE = osp.join(REPO_ROOT, 'configs', '_base_', 'nas_backbones',
                 'spos_mobilenet_supernet.py')
CHOICES = ['mb_k3e3', 'mb_k5e3', 'mb_k7e3', 'mb_k3e6', 'mb_k5e6', 'mb_k7e6', 'identity']
BLOCKS = (1, 4, 4, 4, 4, 4, 1)


def nas_backbone(**kwargs) -> dict:
    cfg = Config.fromfile(SPACE).nas_backbone.to_dict()
    cfg.update(kwargs)
    return cfg


def tiny_stages(num_stages: int = 2) -> list:
    """The space's first stages, with one block each after the first."""
    setting = nas_backbone()['arch_setting']
    return [setting[0]] + [[c, 1, s, m] for c, _, s, m in setting[1:num_stages]]


def choose(backbone: nn.Module, choice: str) -> None:
    for module in backbone.modules():
        if isinstance(module, OneShotMutableOP):
            module.current_choice = choice if choice in module.choices else module.choices[0]


# ---- the Identity candidate -----------------------------------------------------------


def test_identity_passes_through_or_projects_when_the_shape_changes():
    x = torch.rand(2, 8, 6, 6)
    same = Identity(in_channels=8, out_channels=8)
    assert same.downsample is None and same(x) is x
    down = Identity(in_channels=8, out_channels=16, stride=2).eval()
    assert down(x).shape == (2, 16, 3, 3)
    assert down.downsample.conv.kernel_size == (1, 1) and not down.downsample.with_activation
    act = Identity(in_channels=8, out_channels=8, stride=2, act_cfg=dict(type='ReLU'))
    assert (act(x) >= 0).all()
    with pytest.raises(ValueError, match='Identity: stride must be a positive int, got 0'):
        Identity(in_channels=8, out_channels=8, stride=0)


# ---- searchable backbone --------------------------------------------------------------


def test_mmrazor_space_under_both_type_names():
    assert MODELS.get('SearchableMobileNet') is SearchableMobileNetV2
    cfg = nas_backbone()
    assert cfg['type'] == 'SearchableMobileNet'  # the name MMRazor's config uses
    backbone = MODELS.build(cfg)
    assert isinstance(backbone, SearchableMobileNetV2)
    blocks = {name: m for name, m in backbone.named_modules()
              if isinstance(m, OneShotMutableOP)}
    assert list(blocks) == [f'layer{s}.{b}' for s, n in enumerate(BLOCKS, 1)
                            for b in range(n)]
    assert blocks['layer1.0'].choices == ['mb_k3e1']
    assert all(m.choices == CHOICES for name, m in blocks.items() if name != 'layer1.0')
    assert (blocks['layer3.0'].module_kwargs, blocks['layer3.1'].module_kwargs) == (
        dict(in_channels=32, out_channels=56, stride=2),
        dict(in_channels=56, out_channels=56, stride=1))
    assert backbone.layers == [f'layer{i}' for i in range(1, 8)] + ['conv2']
    assert (backbone.conv1.conv.out_channels, backbone.conv2.conv.out_channels) == (40, 1728)
    assert isinstance(backbone.conv1.activate, nn.ReLU6)
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    assert len(mutator.search_groups) == 22


def test_channels_out_indices_and_widen_factor():
    x = torch.rand(1, 3, 32, 32)
    backbone = MODELS.build(nas_backbone(widen_factor=0.5, out_indices=tuple(range(8))))
    choose(backbone, 'mb_k3e3')
    outs = backbone.eval()(x)
    # stage channels * 0.5 made divisible by 8; the last conv keeps 1728 below 1.0
    assert [tuple(o.shape[1:]) for o in outs] == [
        (16, 16, 16), (16, 8, 8), (32, 4, 4), (56, 2, 2), (64, 2, 2), (128, 1, 1),
        (216, 1, 1), (1728, 1, 1)]
    assert backbone.conv1.conv.out_channels == 24  # 40 * 0.5 -> divisible by 8
    wide = SearchableMobileNetV2(tiny_stages(), widen_factor=1.5, out_indices=(2, ))
    assert wide.conv2.conv.out_channels == 1920  # 1280 * 1.5
    assert SearchableMobileNetV2(tiny_stages(), out_indices=(2, )).conv2.conv \
        .out_channels == 1280


def test_frozen_stages_and_norm_eval():
    backbone = SearchableMobileNetV2(tiny_stages(3), frozen_stages=2, norm_eval=True,
                                     out_indices=(3, ))
    backbone.train()
    frozen = [backbone.conv1, backbone.layer1, backbone.layer2]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in backbone.layer3.parameters())
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))
    assert backbone.layer3.training  # only norms are kept in eval mode


def test_default_init_is_kaiming_with_unit_norms():
    backbone = SearchableMobileNetV2(tiny_stages(), out_indices=(2, ))
    assert backbone.init_cfg == [dict(type='Kaiming', layer=['Conv2d']),
                                 dict(type='Constant', val=1,
                                      layer=['_BatchNorm', 'GroupNorm'])]
    backbone.init_weights()
    conv = backbone.conv2.conv.weight  # Kaiming normal, fan-out: std sqrt(2 / fan_out)
    assert conv.std().item() == pytest.approx((2 / conv.shape[0]) ** 0.5, rel=0.1)
    assert torch.all(backbone.conv1.bn.weight == 1)


def test_with_cp_computes_the_same_output_and_gradients():
    torch.manual_seed(0)
    plain = SearchableMobileNetV2(tiny_stages(), out_indices=(2, ))
    checkpointed = SearchableMobileNetV2(tiny_stages(), out_indices=(2, ), with_cp=True)
    checkpointed.load_state_dict(plain.state_dict())
    for model in (plain, checkpointed):
        choose(model, 'mb_k5e6')
    x = torch.rand(2, 3, 16, 16, requires_grad=True)
    outs = [model(x)[0] for model in (plain, checkpointed)]
    assert torch.allclose(outs[0], outs[1])
    grads = [torch.autograd.grad(out.sum(), list(
                model.layer2[0]._candidates['mb_k5e6'].parameters()))
             for out, model in zip(outs, (plain, checkpointed))]
    assert all(torch.allclose(a, b) for a, b in zip(*grads))


def test_bad_backbone_arguments_say_what_is_valid():
    stage = tiny_stages()[0]
    with pytest.raises(ValueError, match=r'arch_setting\[1\] must be \[channels \(int > 0\), '
                                         r'num_blocks \(int > 0\), stride \(int > 0\), '
                                         r'mutable_cfg \(dict\)\]'):
        SearchableMobileNetV2(arch_setting=[stage, [32, 4, stage[3]]])
    with pytest.raises(ValueError, match=r'out_indices \(7,\): \[7\] out of range; this '
                                         r'backbone has layers 0..2 \(2 stages \+ the last'):
        SearchableMobileNetV2(arch_setting=tiny_stages())
    with pytest.raises(ValueError, match=r'frozen_stages must be in \[-1, 2\] \(the number '
                                         r'of stages\), got 3'):
        SearchableMobileNetV2(arch_setting=tiny_stages(), out_indices=(2, ), frozen_stages=3)


# ---- exactness of the exported subnet -------------------------------------------------


def test_random_subnets_export_to_static_subnets_with_the_same_output():
    torch.manual_seed(0)
    supernet = MODELS.build(dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=nas_backbone(widen_factor=0.25), neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1728)))
    for module in supernet.modules():  # running statistics that eval mode must use
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    supernet.eval()
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    x = torch.rand(2, 3, 32, 32)
    random.seed(0)
    for _ in range(4):
        mutator.set_choices(mutator.sample_choices())
        with torch.no_grad():
            expected = supernet(x, mode='tensor')
        subnet, static = export_fix_subnet(supernet, slice_weight=True)
        assert len(subnet) == 22
        assert all(m.is_fixed for m in static.modules() if isinstance(m, BaseMutable))
        for key in static.state_dict():  # only the chosen candidates' weights are left
            if '._candidates.' in key:
                block, rest = key.split('._candidates.')
                assert rest.split('.')[0] == subnet[block]['chosen'], key
        with torch.no_grad():
            out = static.eval()(x, mode='tensor')
        assert (out - expected).abs().max() <= 1e-5

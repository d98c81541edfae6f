"""The SPOS ShuffleNetV2 search space: its candidate ops (shapes, MMRazor's module names,
gradient checkpointing, bad arguments) and the searchable backbone (the SPOS space of
MMRazor's config, options, freezing, init), and that the supernet with a random subnet
chosen computes exactly what the exported static subnet computes."""
import os.path as osp
import random

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config

from mmrazor.models import SearchableShuffleNetV2, ShuffleBlock, ShuffleXception
from mmrazor.models.mutables import BaseMutable, OneShotMutableOP
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet

from ...conftest import REPO_ROOT

SPACE = osp.join(REPO_ROOT, 'configs', '_base_', 'nas_backbones',
                 'spos_shufflenet_supernet.py')
CHOICES = ['shuffle_3x3', 'shuffle_5x5', 'shuffle_7x7', 'shuffle_xception']


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """These convs are tiny: on a shared machine a second thread mostly waits for a
    busy core (forwards ran 100x slower), so run them on one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def nas_backbone(**kwargs) -> dict:
    cfg = Config.fromfile(SPACE).nas_backbone.to_dict()
    cfg.update(kwargs)
    return cfg


def supernet_classifier(**backbone) -> nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(dict(
        _scope_='mmpretrain', type='ImageClassifier', backbone=nas_backbone(**backbone),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1024)))
    for module in model.modules():  # running statistics that eval mode must use
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


# ---- candidate ops ----------------------------------------------------------------


@pytest.mark.parametrize('op', [dict(type='ShuffleBlock', kernel_size=3),
                                dict(type='ShuffleBlock', kernel_size=7),
                                dict(type='ShuffleXception')])
def test_ops_keep_or_halve_the_resolution(op):
    same = MODELS.build(dict(op, _scope_='mmrazor', in_channels=16, out_channels=16))
    down = MODELS.build(dict(op, _scope_='mmrazor', in_channels=8, out_channels=16,
                             stride=2))
    x = torch.rand(2, 16, 8, 8)
    assert same(x).shape == (2, 16, 8, 8)
    assert down(x[:, :8]).shape == (2, 16, 4, 4)
    assert not hasattr(same, 'branch1') and hasattr(down, 'branch1')


def test_stride_one_passes_half_of_the_channels_through():
    op = ShuffleBlock(kernel_size=3, in_channels=8, out_channels=8).eval()
    x = torch.rand(1, 8, 4, 4)
    # channel shuffle with 2 groups interleaves the halves: the kept half lands on
    # the even channels
    assert torch.equal(op(x)[:, 0::2], x[:, :4])


def test_module_names_and_shapes_follow_mmrazor_checkpoints():
    block = ShuffleBlock(kernel_size=5, in_channels=16, out_channels=64, stride=2)
    shapes = {k: tuple(v.shape) for k, v in block.state_dict().items()}
    assert shapes['branch1.0.conv.weight'] == (16, 1, 5, 5)
    assert shapes['branch1.1.conv.weight'] == (32, 16, 1, 1)
    assert shapes['branch2.0.conv.weight'] == (32, 16, 1, 1)
    assert shapes['branch2.1.conv.weight'] == (32, 1, 5, 5)
    assert shapes['branch2.2.bn.weight'] == (32, )
    xception = ShuffleXception(in_channels=16, out_channels=64, stride=2)
    shapes = {k: tuple(v.shape) for k, v in xception.state_dict().items()}
    assert shapes['branch1.0.conv.weight'] == (16, 1, 3, 3)
    assert shapes['branch2.0.depthwise_conv.conv.weight'] == (16, 1, 3, 3)
    assert shapes['branch2.2.pointwise_conv.conv.weight'] == (32, 32, 1, 1)
    assert not any('bias' in k and 'bn' not in k for k in shapes)  # convs before norms


def test_with_cp_computes_the_same_output_and_gradients():
    torch.manual_seed(0)
    plain = ShuffleXception(in_channels=8, out_channels=8)
    checkpointed = ShuffleXception(in_channels=8, out_channels=8, with_cp=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.rand(2, 8, 6, 6, requires_grad=True)
    outs = [op(x) for op in (plain, checkpointed)]
    assert torch.allclose(outs[0], outs[1])
    grads = [torch.autograd.grad(out.sum(), op.branch2[0].pointwise_conv.conv.weight)[0]
             for out, op in zip(outs, (plain, checkpointed))]
    assert torch.allclose(grads[0], grads[1])


def test_bad_op_arguments_say_what_is_valid():
    with pytest.raises(ValueError, match=r'kernel_size must be one of \(3, 5, 7\), got 4'):
        ShuffleBlock(kernel_size=4, in_channels=8, out_channels=8)
    with pytest.raises(ValueError, match=r'in_channels \(8\) must equal out_channels '
                                         r'\(16\); use stride > 1'):
        ShuffleXception(in_channels=8, out_channels=16)
    with pytest.raises(ValueError, match='out_channels must be even'):
        ShuffleBlock(kernel_size=3, in_channels=8, out_channels=15, stride=2)
    with pytest.raises(ValueError, match='stride must be a positive int, got 0'):
        ShuffleBlock(kernel_size=3, in_channels=8, out_channels=8, stride=0)


# ---- searchable backbone --------------------------------------------------------------


def test_spos_space_has_twenty_blocks_of_four_candidates():
    backbone = MODELS.build(nas_backbone())
    blocks = {name: m for name, m in backbone.named_modules()
              if isinstance(m, OneShotMutableOP)}
    assert list(blocks) == [f'layers.{s}.{b}' for s, n in enumerate((4, 4, 8, 4))
                            for b in range(n)]
    assert all(m.choices == CHOICES for m in blocks.values())
    first, second = blocks['layers.2.0'], blocks['layers.2.1']
    assert (first.module_kwargs, second.module_kwargs) == (
        dict(in_channels=160, out_channels=320, stride=2),
        dict(in_channels=320, out_channels=320, stride=1))
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    assert len(mutator.search_groups) == 20


def test_out_indices_widen_factor_and_stem_multiplier():
    x = torch.rand(1, 3, 64, 64)
    backbone = MODELS.build(nas_backbone(widen_factor=0.5, stem_multiplier=2,
                                         out_indices=(0, 1, 2, 3, 4)))
    NasMutator().prepare_from_supernet(backbone)
    for module in backbone.modules():
        if isinstance(module, OneShotMutableOP):
            module.current_choice = 'shuffle_xception'
    outs = backbone.eval()(x)
    assert [tuple(o.shape[1:]) for o in outs] == [(32, 16, 16), (80, 8, 8), (160, 4, 4),
                                                  (320, 2, 2), (1024, 2, 2)]
    assert backbone.conv1.conv.out_channels == 32
    headless = MODELS.build(nas_backbone(with_last_layer=False, out_indices=(3, )))
    assert len(headless.layers) == 4


def test_frozen_stages_and_norm_eval():
    backbone = MODELS.build(nas_backbone(widen_factor=0.25, frozen_stages=1,
                                         norm_eval=True))
    backbone.train()
    frozen = [backbone.conv1, backbone.layers[0]]
    assert not any(p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in backbone.layers[1].parameters())
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))
    assert backbone.layers[1].training  # only norms are kept in eval mode


def test_init_weights_is_spos_init():
    backbone = MODELS.build(nas_backbone(widen_factor=0.25))
    backbone.init_weights()
    assert backbone.conv1.conv.weight.std().item() == pytest.approx(0.01, rel=0.3)
    pointwise = backbone.layers[3][1]._candidates['shuffle_3x3'].branch2[0].conv
    assert pointwise.weight.std().item() == pytest.approx(1 / pointwise.in_channels, rel=0.1)
    bn = backbone.layers[3][1]._candidates['shuffle_3x3'].branch2[0].bn
    assert torch.all(bn.bias == 1e-4) and torch.all(bn.weight == 1)


def test_bad_backbone_arguments_say_what_is_valid():
    stage = nas_backbone()['arch_setting'][0]
    with pytest.raises(ValueError, match=r'arch_setting\[1\] must be \[channels \(int > 0\), '
                                         r'num_blocks'):
        SearchableShuffleNetV2(arch_setting=[stage, [160, stage[2]]])
    with pytest.raises(ValueError, match=r'out_indices \(5,\): \[5\] out of range; this '
                                         r'backbone has layers 0..4'):
        SearchableShuffleNetV2(arch_setting=[stage] * 4, out_indices=(5, ))
    with pytest.raises(ValueError, match=r'frozen_stages must be in \[-1, 3\], got 4'):
        SearchableShuffleNetV2(arch_setting=[stage] * 4, with_last_layer=False,
                               out_indices=(3, ), frozen_stages=4)


# ---- exactness of the exported subnet -------------------------------------------------


def test_random_subnets_export_to_static_subnets_with_the_same_output():
    supernet = supernet_classifier()
    mutator = NasMutator()
    mutator.prepare_from_supernet(supernet)
    x = torch.rand(2, 3, 32, 32)
    random.seed(0)
    for _ in range(4):
        mutator.set_choices(mutator.sample_choices())
        with torch.no_grad():
            expected = supernet(x, mode='tensor')
        subnet, static = export_fix_subnet(supernet, slice_weight=True)
        assert len(subnet) == 20
        mutables = [m for m in static.modules() if isinstance(m, BaseMutable)]
        assert all(m.is_fixed and len(m.choices) == 1 for m in mutables)
        for key in static.state_dict():  # only the chosen candidates' weights are left
            if '._candidates.' in key:
                block, rest = key.split('._candidates.')
                assert rest.split('.')[0] == subnet[block]['chosen'], key
        with torch.no_grad():
            out = static.eval()(x, mode='tensor')
        assert (out - expected).abs().max() <= 1e-5

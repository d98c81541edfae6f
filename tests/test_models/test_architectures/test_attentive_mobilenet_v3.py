"""The BigNAS / OFA search space: the dynamic ops with a searchable kernel size
(``BigNasConv2d`` centre crop, ``OFAConv2d`` learnt transforms), depth
(``DynamicSequential``), input size (``DynamicInputResizer``) and head width
(``DynamicLinearClsHead``), and ``AttentiveMobileNetV3``: the supernet with a random
subnet chosen computes exactly what the exported static subnet computes, and the
estimator counts the subnet, not the supernet."""
import copy
import random

import pytest
import torch
import torch.nn as nn
from mmengine.model import Sequential

from mmrazor.models import (
    AttentiveMobileNetV3,
    BigNasConv2d,
    DynamicInputResizer,
    DynamicLinearClsHead,
    DynamicSequential,
    InputResizer,
    MBBlock,
    OFAConv2d,
)
from mmrazor.models.mutables import OneShotMutableChannel, OneShotMutableValue
from mmrazor.models.mutators import NasMutator
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS
from mmrazor.structures import export_fix_subnet, load_fix_subnet

from .test_searchable_shufflenet import one_thread  # noqa: F401

# the attentive space's shape (7 stages, kernel 3/5, expand 4-6, SE stages) at a
# fraction of its blocks and widths, so a forward on 32x32 takes milliseconds
TINY_ARCH = dict(
    kernel_size=[[3, 5, 2]] * 4,
    num_blocks=[[1, 2, 1], [1, 2, 1], [2, 3, 1], [1, 2, 1]],
    expand_ratio=[[1, 1, 1], [4, 6, 1], [4, 6, 1], [6, 6, 1], [6, 6, 1]],
    num_out_channels=[[8, 16, 8], [8, 16, 8], [16, 24, 8], [16, 32, 8], [24, 32, 8],
                      [64, 96, 32]])


def tiny_backbone(**kwargs) -> dict:
    cfg = dict(type='mmrazor.AttentiveMobileNetV3', arch_setting=TINY_ARCH,
               out_indices=(4, ), stride_list=[1, 2, 2, 1],
               with_se_list=[False, True, False, True],
               act_cfg_list=['HSwish', 'ReLU', 'HSwish', 'ReLU', 'HSwish', 'HSwish'])
    cfg.update(kwargs)
    return cfg


def randomize(model: nn.Module) -> None:
    """Non-trivial norms and kernel transforms, so a wrong slice shows."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
        for name, param in module.named_parameters(recurse=False):
            if name.startswith('trans_matrix'):
                param.data += 0.1 * torch.randn_like(param)


# ---- dynamic ops ------------------------------------------------------------------


def test_bignas_conv_crops_the_kernel_centre_and_exports_it():
    torch.manual_seed(0)
    conv = BigNasConv2d(4, 6, 5, padding=2)
    kernel = OneShotMutableValue([3, 5])
    conv.register_mutable_attr('kernel_size', kernel)
    x = torch.rand(2, 4, 9, 9)
    assert torch.allclose(conv(x), nn.functional.conv2d(x, conv.weight, conv.bias, padding=2))
    kernel.current_choice = 3
    expected = nn.functional.conv2d(x, conv.weight[:, :, 1:4, 1:4], conv.bias, padding=1)
    assert torch.allclose(conv(x), expected, atol=1e-6)
    kernel.fix_chosen()
    static = conv.to_static_op()
    assert type(static) is nn.Conv2d and static.kernel_size == (3, 3) \
        and static.padding == (1, 1)
    assert torch.allclose(static(x), expected, atol=1e-6)


def test_ofa_conv_transforms_the_smaller_kernels():
    torch.manual_seed(0)
    conv = OFAConv2d(4, 4, 7, padding=3, groups=4, bias=False)
    kernel = OneShotMutableValue([3, 5, 7])
    conv.register_mutable_attr('kernel_size', kernel)
    assert sorted(n for n, _ in conv.named_parameters()) == [
        'trans_matrix_5to3', 'trans_matrix_7to5', 'weight']
    x = torch.rand(1, 4, 8, 8)
    kernel.current_choice = 3
    # identity transforms: the centre crop, as BigNAS
    cropped = conv.weight[:, :, 2:5, 2:5]
    assert torch.allclose(conv(x), nn.functional.conv2d(x, cropped, padding=1, groups=4),
                          atol=1e-6)
    with torch.no_grad():
        conv.trans_matrix_5to3.mul_(2.0)  # a learnt transform changes the 3x3 kernel
    assert torch.allclose(conv(x), 2 * nn.functional.conv2d(x, cropped, padding=1,
                                                            groups=4), atol=1e-5)
    conv(x).sum().backward()
    assert conv.trans_matrix_5to3.grad is not None and conv.trans_matrix_7to5.grad is not None
    kernel.fix_chosen()
    static = conv.to_static_op()
    assert static.weight.shape == (4, 1, 3, 3) and not hasattr(static, 'trans_matrix_5to3')
    assert torch.allclose(static(x), conv(x), atol=1e-6)


def test_bad_kernel_and_depth_choices_are_refused():
    with pytest.raises(ValueError, match='kernel size choices must be odd ints up to the '
                       r'built kernel 5; got \[4, 7\]'):
        BigNasConv2d(2, 2, 5).register_mutable_attr('kernel_size',
                                                    OneShotMutableValue([3, 4, 7]))
    with pytest.raises(ValueError, match=r'has 2 blocks; depth choices must be ints in '
                       r'\[1, 2\], got \[3\]'):
        DynamicSequential(nn.Identity(), nn.Identity()).register_mutable_attr(
            'depth', OneShotMutableValue([1, 3]))
    with pytest.raises(ValueError, match="no mutable attribute 'dpth'; closest: depth"):
        DynamicSequential(nn.Identity()).register_mutable_attr('dpth',
                                                               OneShotMutableValue([1]))


def test_dynamic_sequential_runs_and_keeps_the_first_blocks():
    blocks = [nn.Linear(3, 3) for _ in range(3)]
    seq = DynamicSequential(*blocks)
    depth = OneShotMutableValue([1, 2, 3])
    seq.register_mutable_attr('depth', depth)
    assert len(seq) == 3 and list(seq) == blocks  # the mutable is no block
    x = torch.rand(2, 3)
    depth.current_choice = 2
    assert torch.equal(seq(x), blocks[1](blocks[0](x)))
    depth.fix_chosen()
    static = seq.to_static_op()
    assert isinstance(static, Sequential) and list(static) == blocks[:2]


def test_dynamic_input_resizer_and_head():
    resizer = DynamicInputResizer(interpolation_type='bilinear')
    shape = OneShotMutableValue([[8, 8], [12, 12]])
    resizer.register_mutable_attr('shape', shape)
    x = torch.rand(1, 3, 16, 16)
    assert resizer(x).shape[-2:] == (12, 12)
    shape.current_choice = [8, 8]
    assert resizer(x).shape[-2:] == (8, 8)
    shape.fix_chosen()
    static = resizer.to_static_op()
    assert type(static) is InputResizer and torch.equal(static(x), resizer(x))
    with pytest.raises(ValueError, match=r'shape choices are \[H, W\] lists'):
        DynamicInputResizer().register_mutable_attr('shape', OneShotMutableValue([8, 9]))

    head = MODELS.build(dict(type='mmrazor.DynamicLinearClsHead', num_classes=5,
                             in_channels=16, topk=(1, )))
    width = OneShotMutableChannel(16, [8, 16])
    head.connect_with_backbone(width)
    width.current_choice = 8
    feats = (torch.rand(2, 8), )
    logits = head(feats)
    assert torch.allclose(logits, feats[0] @ head.fc.weight[:, :8].t() + head.fc.bias)
    width.fix_chosen()
    static = head.to_static_op()
    assert type(static).__name__ == 'LinearClsHead' and static.fc.in_features == 8
    assert torch.allclose(static(feats), logits) and static.topk == (1, )
    assert isinstance(DynamicLinearClsHead.convert_from(static), DynamicLinearClsHead)


# ---- the backbone -----------------------------------------------------------------


def test_mmrazor_aliases_and_search_groups():
    backbone = MODELS.build(tiny_backbone())
    assert isinstance(backbone, AttentiveMobileNetV3)
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    # one width per stage plus the stem and the last layer; kernel, expand, depth per stage
    kinds = [key.split('_')[0] for key in mutator.search_groups]
    assert kinds.count('channel') == 6 and kinds.count('value') == 12
    subnet, _ = export_fix_subnet(backbone)
    assert set(subnet) == {'backbone.first_channels', 'backbone.last_channels'} | {
        f'backbone.layers.{i}.{key}' for i in range(1, 5)
        for key in ('kernel_size', 'expand_ratio', 'depth', 'out_channels')}
    assert isinstance(backbone.layer2[0], MBBlock) and backbone.layer2[0].se is not None
    assert backbone.layer1[0].shortcut is not None and backbone.layer1[1].with_res_shortcut


@pytest.mark.parametrize('conv', ['BigNasConv2d', 'OFAConv2d'])
def test_exported_subnets_compute_what_the_supernet_computes(conv):
    torch.manual_seed(0)
    random.seed(0)
    backbone = MODELS.build(tiny_backbone(conv_cfg=dict(type=conv),
                                          with_attentive_shortcut=conv == 'BigNasConv2d',
                                          fine_grained_mode=conv == 'OFAConv2d'))
    backbone.init_weights()
    randomize(backbone)
    backbone.eval()
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    x = torch.rand(2, 3, 32, 32)
    seen = set()
    for _ in range(5):
        mutator.set_choices(mutator.sample_choices())
        with torch.no_grad():
            expected = backbone(x)[0]
        subnet, static = export_fix_subnet(backbone, slice_weight=True)
        seen.add(str(subnet))
        assert not any(isinstance(m, (BigNasConv2d, DynamicSequential))
                       for m in static.modules())
        # the forward runs the static stages (not ones the supernet kept)
        assert all(type(layer) is Sequential for layer in static.layers)
        with torch.no_grad():
            assert torch.allclose(static(x)[0], expected, atol=1e-5)
        # loading the subnet file into a fresh supernet gives the same network
        fresh = copy.deepcopy(backbone)
        load_fix_subnet(fresh, subnet)
        with torch.no_grad():
            assert torch.allclose(fresh(x)[0], expected, atol=1e-5)
    assert len(seen) == 5


def test_the_estimator_counts_the_chosen_subnet():
    backbone = MODELS.build(tiny_backbone()).eval()
    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    mutator.set_choices(mutator.sample_choices('min'))
    flops, params = get_model_flops_params(backbone, input_shape=(1, 3, 32, 32),
                                           units=None)
    _, static = export_fix_subnet(backbone, slice_weight=True)
    static_flops, static_params = get_model_flops_params(static, input_shape=(1, 3, 32, 32),
                                                         units=None)
    assert flops == static_flops and params == static_params
    mutator.set_choices(mutator.sample_choices('max'))
    max_flops, _ = get_model_flops_params(backbone, input_shape=(1, 3, 32, 32), units=None)
    assert max_flops > 2 * flops


def test_bad_arch_settings_are_refused():
    with pytest.raises(KeyError, match=r"arch_setting misses \['num_blocks'\]"):
        AttentiveMobileNetV3({k: v for k, v in TINY_ARCH.items() if k != 'num_blocks'})
    with pytest.raises(ValueError, match=r'\[min, max, step\] ints with min <= max'):
        AttentiveMobileNetV3(dict(TINY_ARCH, kernel_size=[[5, 3, 2]] * 4))
    with pytest.raises(ValueError, match='stride_list needs 4 entries for the 4 stages'):
        AttentiveMobileNetV3(TINY_ARCH, stride_list=[1, 2], with_se_list=[False] * 4)
    with pytest.raises(ValueError, match=r'out_indices must be in range\(0, 5\)'):
        AttentiveMobileNetV3(TINY_ARCH, out_indices=(7, ), stride_list=[1] * 4,
                             with_se_list=[False] * 4, act_cfg_list=['ReLU'] * 6)


# ---- the classifier ---------------------------------------------------------------


def _classifier(**kwargs) -> dict:
    cfg = dict(type='mmrazor.SearchableImageClassifier', backbone=tiny_backbone(),
               neck=dict(type='mmpretrain.GlobalAveragePooling'),
               head=dict(type='mmrazor.DynamicLinearClsHead', num_classes=10, in_channels=96,
                         loss=dict(type='mmpretrain.CrossEntropyLoss')),
               connect_head=dict(connect_with_backbone='backbone.last_mutable_channels'))
    cfg.update(kwargs)
    return cfg


def test_searchable_image_classifier_resizes_and_connects_the_head():
    # MMRazor's older input_resizer_cfg form: a resizer and its shape mutable
    model = MODELS.build(_classifier(input_resizer_cfg=dict(
        input_resizer=dict(type='mmrazor.DynamicInputResizer'),
        mutable_shape=dict(type='mmrazor.OneShotMutableValue',
                           value_list=[[16, 16], [24, 24]]))))
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    mutator.set_choices(mutator.sample_choices('min'))
    model.eval()
    seen = []
    model.backbone.register_forward_pre_hook(lambda _, args: seen.append(args[0].shape))
    with torch.no_grad():
        logits = model(torch.rand(1, 3, 40, 40), mode='tensor')
    assert seen == [(1, 3, 16, 16)] and logits.shape == (1, 10)
    assert model.head.fc.in_mask().sum() == 64  # the backbone's narrowest last layer
    with pytest.raises(KeyError, match=r'input_resizer_cfg needs input_sizes=\[\[H, W\]'):
        MODELS.build(_classifier(input_resizer_cfg=dict(sizes=[[8, 8]])))
    with pytest.raises(AttributeError, match="LinearClsHead has no method 'connect_with_"):
        MODELS.build(_classifier(head=dict(type='mmpretrain.LinearClsHead', num_classes=10,
                                           in_channels=96)))

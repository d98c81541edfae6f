"""AutoFormer's dynamic ops and ``AutoformerBackbone``: each dynamic op computes what
its static op computes (converted from one, or exported at a choice), the exported
static subnets of random choices compute what the supernet computes, and the resource
estimator counts the chosen subnet."""
import copy

import pytest
import torch
import torch.nn as nn
from mmpretrain.models.utils import PatchEmbed

from mmrazor.models.architectures.backbones import AutoformerBackbone
from mmrazor.models.architectures.classifiers import SearchableImageClassifier
from mmrazor.models.architectures.dynamic_ops import (
    DynamicLinear,
    DynamicMixin,
    DynamicMultiheadAttention,
    DynamicPatchEmbed,
    DynamicRelativePosition2D,
)
from mmrazor.models.architectures.dynamic_ops.bricks.dynamic_embed import (
    no_patch_embed_warning,
)
from mmrazor.models.architectures.ops import MultiheadAttention, RelativePosition2D
from mmrazor.models.mutables import (
    MutableChannelContainer,
    OneShotMutableChannel,
    OneShotMutableValue,
)
from mmrazor.models.mutators import NasMutator
from mmrazor.models.task_modules.estimators import ResourceEstimator
from mmrazor.structures import export_fix_subnet

from .test_searchable_shufflenet import one_thread  # noqa: F401

TINY_ARCH = dict(mlp_ratios=[1.0, 1.5, 2.0], num_heads=[1, 2], depth=[1, 2, 3],
                 embed_dims=[16, 24, 32])


def tiny_classifier(**backbone) -> SearchableImageClassifier:
    """A 10-class classifier over a 3-block Autoformer of 28x28 images (4 patches)."""
    cfg = dict(type='mmrazor.AutoformerBackbone', arch_setting=TINY_ARCH, img_size=28,
               patch_size=14)
    cfg.update(backbone)
    return SearchableImageClassifier(
        backbone=cfg,
        # scoped loss: an earlier Runner may leave 'mmrazor' as the default scope,
        # where CrossEntropyLoss is the distillation loss
        head=dict(type='mmrazor.DynamicLinearClsHead', num_classes=10, in_channels=32,
                  loss=dict(type='mmpretrain.CrossEntropyLoss')),
        connect_head=dict(connect_with_backbone='backbone.last_mutable'))


def _rand_init(model: nn.Module) -> None:
    # zero-initialized tokens and norms would hide wrong slices
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn_like(param) * 0.2)


# ---- dynamic ops ---------------------------------------------------------------------

@pytest.mark.parametrize('relative_position', [True, False])
def test_attention_converted_from_a_static_one_computes_the_same(relative_position):
    torch.manual_seed(0)
    static = MultiheadAttention(32, 2, head_dims=8,
                                relative_position=relative_position).eval()
    dynamic = DynamicMultiheadAttention.convert_from(static).eval()
    assert isinstance(dynamic.w_qs, DynamicLinear)
    assert hasattr(dynamic, 'rel_pos_embed_k') == relative_position
    assert dynamic.w_qs.weight is static.w_qs.weight  # shared, not copied
    x = torch.randn(2, 5, 32)
    assert torch.allclose(dynamic(x), static(x), atol=1e-6)


def test_attention_exports_the_chosen_heads_and_dims():
    torch.manual_seed(0)
    attn = DynamicMultiheadAttention(32, 4, head_dims=8).eval()
    heads = OneShotMutableValue([2, 4])
    head_dims = OneShotMutableChannel(8, [8])
    embed = OneShotMutableChannel(32, [16, 32])
    attn.register_mutable_attr('num_heads', heads)
    attn.register_mutable_attr('in_channels', embed)  # MMRazor's generic name
    attn.register_mutable_attr('q_embed_dims', heads * head_dims)
    for rel_pos in (attn.rel_pos_embed_k, attn.rel_pos_embed_v):
        MutableChannelContainer.register_mutable_channel_to_module(rel_pos, head_dims)
    heads.current_choice, embed.current_choice = 2, 16
    x = torch.randn(2, 5, 16)
    out = attn(x)
    assert out.shape == (2, 5, 16)
    for mutable in (heads, head_dims, embed):
        mutable.fix_chosen(mutable.current_choice)
    static = attn.to_static_op()
    assert type(static) is MultiheadAttention and static.num_heads == 2
    assert static.w_qs.weight.shape == (16, 16) and static.proj.weight.shape == (16, 16)
    assert not any(isinstance(m, DynamicMixin) for m in static.modules())
    assert torch.allclose(static(x), out, atol=1e-6)


def test_attention_refuses_more_heads_than_it_has():
    attn = DynamicMultiheadAttention(32, 2, head_dims=8)
    with pytest.raises(ValueError, match=r'has 2 heads; num_heads choices must be ints in '
                                         r'\[1, 2\], got \[3\]'):
        attn.register_mutable_attr('num_heads', OneShotMutableValue([1, 3]))
    with pytest.raises(ValueError, match=r"no mutable attribute 'num_head'; closest: "
                                         r'num_heads'):
        attn.register_mutable_attr('num_head', OneShotMutableValue([1, 2]))


def test_relative_position_keeps_the_chosen_head_dims():
    torch.manual_seed(0)
    static = RelativePosition2D(8, max_relative_position=2)
    dynamic = DynamicRelativePosition2D.convert_from(static)
    assert torch.equal(dynamic(5, 5), static(5, 5))  # 1 class token + 2x2 patches
    dims = OneShotMutableChannel(8, [4, 8])
    MutableChannelContainer.register_mutable_channel_to_module(dynamic, dims)
    dims.current_choice = 4
    assert torch.equal(dynamic(5, 5), static(5, 5)[..., :4])
    dims.fix_chosen(4)
    exported = dynamic.to_static_op()
    assert type(exported) is RelativePosition2D and exported.head_dims == 4
    assert torch.equal(exported(5, 5), static(5, 5)[..., :4])
    with pytest.raises(ValueError, match='a class token and a square grid of patches; 6 '
                                         'tokens leave 5 patches'):
        dynamic(6, 6)


def test_patch_embed_follows_its_embed_dims():
    torch.manual_seed(0)
    with no_patch_embed_warning():
        static = PatchEmbed(img_size=28, in_channels=3, embed_dims=32,
                            conv_cfg=dict(kernel_size=14, stride=14)).eval()
    dynamic = DynamicPatchEmbed.convert_from(static)
    x = torch.randn(2, 3, 28, 28)
    assert torch.equal(dynamic(x), static(x))
    embed = OneShotMutableChannel(32, [16, 32])
    dynamic.register_mutable_attr('embed_dims', embed)
    embed.current_choice = 16
    assert torch.allclose(dynamic(x), static(x)[..., :16], atol=1e-6)
    embed.fix_chosen(16)
    exported = dynamic.to_static_op()
    assert type(exported) is PatchEmbed and exported.projection.out_channels == 16
    assert torch.allclose(exported(x), static(x)[..., :16], atol=1e-6)
    with pytest.raises(ValueError, match=r'built for \(28, 28\) images, got \(32, 32\)'):
        dynamic(torch.randn(1, 3, 32, 32))


# ---- backbone --------------------------------------------------------------------------

def test_backbone_has_mmrazors_mutables_and_search_groups():
    model = tiny_classifier()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    names = [name for name, _ in export_fix_subnet(model)[0].items()]
    assert names[:3] == ['backbone.mutable_depth', 'backbone.mutable_embed_dims',
                         'backbone.base_embed_dims']
    assert set(names[3:]) == {f'backbone.blocks.{i}.{key}' for i in range(3) for key in (
        'attn.mutable_attrs.num_heads', 'mutable_mlp_ratios')}
    choices = sorted(str(getattr(group[0], 'candidate_choices', None) or group[0].choices)
                     for group in mutator.search_groups.values())
    # embed dims, head dims; depth, 3 x heads, 3 x mlp ratios
    assert choices == sorted(['[16, 24, 32]', '[64]', '[1, 2, 3]'] + ['[1, 2]'] * 3 +
                             ['[1.0, 1.5, 2.0]'] * 3)
    assert model.head.fc.get_mutable_attr('in_channels').mutable_channels[(0, 32)] is \
        model.backbone.mutable_embed_dims


def test_backbone_refuses_a_bad_arch_setting():
    with pytest.raises(KeyError, match=r"arch_setting misses \['depth'\]"):
        AutoformerBackbone(dict(mlp_ratios=[1.0], num_heads=[1], embed_dims=[8]))
    with pytest.raises(ValueError, match=r"arch_setting\['num_heads'\] must be a non-empty "
                                         r'list of positive ints, got \[0, 1\]'):
        AutoformerBackbone(dict(TINY_ARCH, num_heads=[0, 1]))
    with pytest.raises(ValueError, match=r'img_size \(28\) must be a multiple of '
                                         r'patch_size \(16\)'):
        AutoformerBackbone(TINY_ARCH, img_size=28)


def test_exported_subnets_compute_what_the_supernet_computes():
    torch.manual_seed(0)
    model = tiny_classifier()
    _rand_init(model)
    model.eval()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    x = torch.randn(2, 3, 28, 28)
    seen_depths, seen_dims = set(), set()
    for _ in range(6):
        mutator.set_choices(mutator.sample_choices())
        with torch.no_grad():
            expected = model(x, mode='tensor')
        subnet, static = export_fix_subnet(model, slice_weight=True)
        assert not any(isinstance(m, DynamicMixin) for m in static.modules())
        depth, dims = subnet['backbone.mutable_depth']['chosen'], \
            subnet['backbone.mutable_embed_dims']['chosen']
        assert len(static.backbone.blocks) == depth and static.head.fc.in_features == dims
        block = static.backbone.blocks[0]
        heads = subnet['backbone.blocks.0.attn.mutable_attrs.num_heads']['chosen']
        ratio = subnet['backbone.blocks.0.mutable_mlp_ratios']['chosen']
        assert block.attn.num_heads == heads and block.attn.w_qs.weight.shape == (
            heads * 64, dims)
        assert block.fc1.weight.shape == (int(dims * ratio), dims)
        with torch.no_grad():
            assert (static(x, mode='tensor') - expected).abs().max() <= 1e-5
        seen_depths.add(depth)
        seen_dims.add(dims)
    assert len(seen_depths) > 1 and len(seen_dims) > 1  # the subnets differed


def test_estimator_counts_the_chosen_subnet():
    model = tiny_classifier().eval()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    estimator = ResourceEstimator(input_shape=(1, 3, 28, 28), units=dict(flops=None,
                                                                        params=None))
    results = {}
    for kind in ('min', 'max'):
        mutator.set_choices(mutator.sample_choices(kind))
        results[kind] = estimator.estimate(model)
        static = export_fix_subnet(model, slice_weight=True)[1]
        assert estimator.estimate(static) == results[kind]
    assert results['min']['flops'] < results['max']['flops']
    assert results['min']['params'] < results['max']['params']
    # the largest subnet is the whole supernet: every parameter counts
    assert results['max']['params'] == sum(p.numel() for p in model.parameters())


def test_depth_and_widths_of_a_copied_supernet_stay_independent():
    model = tiny_classifier()
    copied = copy.deepcopy(model)
    copied.backbone.mutable_depth.current_choice = 1
    assert model.backbone.mutable_depth.current_choice == 3
    assert copied.backbone.blocks.mutable_depth is copied.backbone.mutable_depth
    # torch's convention (mmpretrain's BaseBackbone.train returns None)
    assert model.backbone.eval() is model.backbone

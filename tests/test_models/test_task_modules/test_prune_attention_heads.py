"""Head dims of attention (mmpretrain's and torch's) and channel shuffles are pruned,
and pruning them is exact.

Both split one channel dim into several with a reshape (``(3, heads, head_dims)``,
``(groups, -1)``). The tracer binds the last dim's channels across the leading ones
(the same head dims in q, k and v of every head; the same channels in every group),
and mmpretrain's ``head_dims``/``embed_dims``, which its ``forward`` uses as reshape
sizes, follow the pruned ``qkv`` width. "Exact" is checked against the full model with
the pruned channels' weights zeroed: it must compute the same.
"""
import copy
import random

import pytest
import torch
import torch.nn as nn
import torchvision
from mmengine.config import Config

from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.models.task_modules.tracer import ChannelAnalyzer
from mmrazor.structures import export_fix_subnet
from mmrazor.utils import build_model_from_config

from ...pruning_helpers import Pruned


def prune_randomly_and_export(pruned: Pruned, *inputs) -> tuple:
    """Random widths (40-80 %) for every unit; the exported static model, checked to
    compute what the dynamic one computes, and its output."""
    rng = random.Random(0)
    pruned.mutator.set_choices({u.name: rng.uniform(0.4, 0.8)
                                for u in pruned.mutator.mutable_units})
    with torch.no_grad():
        got = pruned.architecture(*inputs)
        _, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
        exported = static(*inputs)
    assert (exported - got).abs().max() <= 1e-5
    return static, exported


def deit() -> nn.Module:
    torch.manual_seed(0)
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=32, patch_size=8,
                      drop_path_rate=0.0),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=192))))).eval()


def prune_heads_and_zero_them(full: nn.Module, pruned: Pruned, marker: str,
                              ratio=lambda: 0.5) -> list:
    """Prune the head-dim units (names containing ``marker``) of ``pruned`` by
    ``ratio()`` and keep every other unit; zero the same dims of q, k and v of every
    head in ``full`` (its qkv layer or packed in-projection). Returns the head units."""
    heads = [u for u in pruned.mutator.mutable_units if marker in u.name]
    pruned.mutator.set_choices({u.name: ratio() if u in heads else 1.0
                                for u in pruned.mutator.mutable_units})
    for unit in heads:
        layer = full.get_submodule(unit.name.split('_(')[0])
        weight, bias = (layer.in_proj_weight, layer.in_proj_bias) \
            if isinstance(layer, nn.MultiheadAttention) else (layer.weight, layer.bias)
        mask = unit.mutable_channel.current_mask
        dropped = (~mask).repeat(weight.shape[0] // len(mask))  # q, k, v x heads
        with torch.no_grad():
            weight[dropped] = 0
            bias[dropped] = 0
    return heads


def test_head_dims_are_one_unit_per_block():
    units = ChannelAnalyzer(demo_input=(1, 3, 32, 32), tracer_type='FxTracer').analyze(deit())
    unit = units['backbone.layers.0.attn.qkv_(0, 64)_64']
    assert unit['init_args'] == {'num_channels': 64}
    # 3 heads: q, k and v of every head hold the same 64 dims; proj reads 3 copies
    qkv = [(c['start'], c['end']) for c in unit['channels']['output_related']]
    assert qkv == [(i * 64, i * 64 + 64) for i in range(9)]
    proj = [(c['name'], c['start'], c['end'])
            for c in unit['channels']['input_related']]
    assert proj == [('backbone.layers.0.attn.proj', i * 64, i * 64 + 64) for i in range(3)]
    assert sum(name.endswith('attn.qkv_(0, 64)_64') for name in units) == 12


def test_pruned_head_dims_equal_zeroed_dims_in_full_model():
    full = deit()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 32, 32)).eval()
    rng = random.Random(0)
    heads = prune_heads_and_zero_them(full, pruned, '.attn.qkv_',
                                      lambda: rng.uniform(0.4, 0.8))
    assert len(heads) == 12
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = full(x, None, 'tensor')
        got = pruned.architecture(x, None, 'tensor')
        _, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
        exported = static(x, None, 'tensor')
    assert (got - expected).abs().max() <= 1e-5
    assert (exported - expected).abs().max() <= 1e-5
    attn = static.backbone.layers[0].attn
    kept = int(heads[0].mutable_channel.current_mask.sum())
    assert kept < 64
    assert (attn.head_dims, attn.embed_dims) == (kept, 3 * kept)
    assert attn.qkv.out_features == 9 * kept and attn.proj.in_features == 3 * kept
    assert not attn._forward_pre_hooks  # the static model needs no mmrazor hook
    # the exported program holds the pruned sizes as plain constants
    program = torch.export.export(static.eval(), (x, None, 'tensor'))
    assert (program.module()(x, None, 'tensor') - expected).abs().max() <= 1e-5


class ShuffleNet(nn.Module):
    """A channel shuffle (``view(b, groups, -1)``, transpose, flatten) between convs;
    ``literal=True`` writes the per-group size as a literal, which must freeze."""

    def __init__(self, literal: bool = False) -> None:
        super().__init__()
        self.literal = literal
        self.stem = nn.Conv2d(3, 8, 1)
        self.left = nn.Conv2d(4, 3, 1)
        self.right = nn.Conv2d(4, 3, 1)

    def forward(self, x):
        x = self.stem(x)
        b, c, h, w = x.shape
        x = x.view(b, 2, 4 if self.literal else c // 2, h, w)
        x = x.transpose(1, 2).reshape(b, c, h, w)
        left, right = x.chunk(2, dim=1)
        return self.left(left) + self.right(right)


def test_channel_shuffle_is_pruned_exactly():
    torch.manual_seed(0)
    full = ShuffleNet().eval()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 8, 8)).eval()
    (unit, ) = pruned.mutator.mutable_units
    # 2 channels: each is stem channel d of both groups, shuffled next to each other
    assert unit.name == 'stem_(0, 2)_2'
    pruned.mutator.set_choices({unit.name: 0.5})
    dropped = ~unit.mutable_channel.current_mask
    with torch.no_grad():
        full.stem.weight[dropped.repeat(4)] = 0
        full.stem.bias[dropped.repeat(4)] = 0
    x = torch.rand(2, 3, 8, 8)
    with torch.no_grad():
        expected = full(x)
        got = pruned.architecture(x)
        _, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
        exported = static(x)
    assert static.stem.out_channels == 4 and static.left.in_channels == 2
    assert (got - expected).abs().max() <= 1e-6
    assert (exported - expected).abs().max() <= 1e-6


def test_literal_split_size_freezes():
    analyzer = ChannelAnalyzer(demo_input=(1, 3, 8, 8), tracer_type='FxTracer')
    assert analyzer.analyze(ShuffleNet(literal=True)) == {}
    reasons = {(tuple(g.layers), g.num_channels): g.reason for g in analyzer.frozen_groups}
    assert reasons[(('stem', ), 8)] == 'reshaped across channels'


def torchvision_vit() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=3, hidden_dim=48, mlp_dim=96,
        num_classes=10).eval()


def test_torchvision_vit_prunes_residual_heads_and_mlp():
    """``nn.MultiheadAttention`` (a leaf) prunes its input channels with the residual
    stream and its head dims on their own; ``hidden_dim`` (a reshape size in
    ``_process_input``) follows the patch embedding."""
    full = torchvision_vit()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 32, 32)).eval()
    names = {u.name: u.num_channels for u in pruned.mutator.mutable_units}
    assert names == {
        'conv_proj_(0, 48)_48': 48,  # the residual stream, class token, position embedding
        'encoder.layers.encoder_layer_0.self_attention_(0, 16)_16': 16,
        'encoder.layers.encoder_layer_0.mlp.0_(0, 96)_96': 96,
        'encoder.layers.encoder_layer_1.self_attention_(0, 16)_16': 16,
        'encoder.layers.encoder_layer_1.mlp.0_(0, 96)_96': 96}
    x = torch.rand(2, 3, 32, 32)
    static, exported = prune_randomly_and_export(pruned, x)
    width = static.conv_proj.out_channels
    attn = static.encoder.layers[0].self_attention
    assert static.hidden_dim == width < 48 and attn.embed_dim == width
    assert type(attn).__name__ == 'PrunedMultiheadAttention' and attn.head_dim < 16
    assert attn.out_proj.out_features == width
    assert not static._forward_pre_hooks
    flops = get_model_flops_params(static, input_shape=(1, 3, 32, 32), units=None)[0]
    assert flops < 0.8 * get_model_flops_params(full, input_shape=(1, 3, 32, 32),
                                                units=None)[0]
    program = torch.export.export(static, (x, ))
    assert (program.module()(x) - exported).abs().max() <= 1e-5


def test_torchvision_vit_head_dims_equal_zeroed_dims():
    full = torchvision_vit()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 32, 32)).eval()
    assert len(prune_heads_and_zero_them(full, pruned, 'self_attention')) == 2
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert (pruned.architecture(x) - full(x)).abs().max() <= 1e-5


@pytest.mark.parametrize('version', ['swin_t', 'swin_v2_t'])
def test_torchvision_swin_prunes_residual_and_head_dims(version):
    """torchvision's Swin attention (a wrapped function reading ``qkv.weight``) gets a
    forward that computes with the pruned widths; patch merging tiles the channels."""
    torch.manual_seed(0)
    full = getattr(torchvision.models, version)(num_classes=10).eval()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 64, 64)).eval()
    names = {u.name for u in pruned.mutator.mutable_units}
    assert {'features.0.0_(0, 96)_96', 'features.1.0.attn.qkv_(0, 32)_32',
            'features.2.reduction_(0, 192)_192'} <= names
    x = torch.rand(2, 3, 64, 64)
    static, exported = prune_randomly_and_export(pruned, x)
    attn = static.features[1][0].attn
    assert type(attn).__name__ == {'swin_t': 'PrunedShiftedWindowAttention',
                                   'swin_v2_t': 'PrunedShiftedWindowAttentionV2'}[version]
    assert attn.qkv.in_features < 96 and attn.qkv.out_features < 3 * 96
    flops = get_model_flops_params(static, input_shape=(1, 3, 64, 64), units=None)[0]
    assert flops < 0.7 * get_model_flops_params(full, input_shape=(1, 3, 64, 64),
                                                units=None)[0]


def test_torchvision_swin_head_dims_equal_zeroed_dims():
    torch.manual_seed(0)
    full = torchvision.models.swin_t(num_classes=10).eval()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 64, 64)).eval()
    assert len(prune_heads_and_zero_them(full, pruned, '.attn.qkv_')) == 12
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert (pruned.architecture(x) - full(x)).abs().max() <= 1e-5


def mm_swin() -> nn.Module:
    torch.manual_seed(0)
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='SwinTransformer', arch='tiny', img_size=64, window_size=2,
                      drop_path_rate=0.0),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=768))))).eval()


def test_mmpretrain_swin_prunes_residual_and_head_dims():
    """mmpretrain's WindowMSA sizes its reshapes from the input width; once pruning
    starts it computes with the widths ``qkv`` gives (``PrunedWindowMSA``); its patch
    merging (``F.unfold``) repeats each channel per kernel position."""
    full = mm_swin()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 64, 64)).eval()
    names = {u.name for u in pruned.mutator.mutable_units}
    assert {'backbone.patch_embed.projection_(0, 96)_96',
            'backbone.stages.0.blocks.0.attn.w_msa.qkv_(0, 32)_32',
            'backbone.stages.0.downsample.reduction_(0, 192)_192',
            # the last stage too: ``num_features[3]`` sizes its output view
            'backbone.stages.2.downsample.reduction_(0, 768)_768'} <= names
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():  # full width: PrunedWindowMSA computes mmpretrain's WindowMSA
        assert (pruned.architecture(x, None, 'tensor') -
                full(x, None, 'tensor')).abs().max() <= 1e-6
    x = torch.rand(2, 3, 64, 64)
    static, exported = prune_randomly_and_export(pruned, x, None, 'tensor')
    assert static.backbone.num_features[3] == static.head.fc.in_features < 768
    msa = static.backbone.stages[0].blocks[0].attn.w_msa
    assert type(msa).__name__ == 'PrunedWindowMSA'
    assert msa.qkv.in_features < 96 and msa.proj.in_features < 96


def test_mmpretrain_swin_head_dims_equal_zeroed_dims():
    full = mm_swin()
    pruned = Pruned(copy.deepcopy(full), (1, 3, 64, 64)).eval()
    assert len(prune_heads_and_zero_them(full, pruned, '.w_msa.qkv_')) == 12
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert (pruned.architecture(x, None, 'tensor') -
                full(x, None, 'tensor')).abs().max() <= 1e-5


def tiny_maxvit() -> nn.Module:
    torch.manual_seed(0)
    return torchvision.models.MaxVit(
        input_size=(32, 32), stem_channels=16, partition_size=2, block_channels=[16, 32],
        block_layers=[1, 1], head_dim=8, stochastic_depth_prob=0.0, num_classes=10).eval()


def test_torchvision_maxvit_prunes_everything_but_its_output():
    """MaxViT's attention contracts with ``einsum`` and reshapes its output with the
    input width: the tracer follows the einsum; the module gets a forward computing with
    the pruned widths (``PrunedRelativePositionalMultiHeadAttention``)."""
    full = tiny_maxvit()
    analyzer = ChannelAnalyzer(demo_input=(1, 3, 32, 32), tracer_type='FxTracer')
    analyzer.analyze(copy.deepcopy(full))
    assert {g.reason for g in analyzer.frozen_groups} == {
        'channels from no prunable layer (model input or a frozen op)', 'model output'}
    pruned = Pruned(copy.deepcopy(full), (1, 3, 32, 32)).eval()
    heads = {u.name: u for u in pruned.mutator.mutable_units if 'to_qkv' in u.name}
    assert len(heads) == 4 and all(u.num_channels == 8 for u in heads.values())
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():  # full width: the new forward computes torchvision's
        assert (pruned.architecture(x) - full(x)).abs().max() <= 1e-6
    static, exported = prune_randomly_and_export(pruned, x)
    attentions = [m for m in static.modules()
                  if type(m).__name__ == 'PrunedRelativePositionalMultiHeadAttention']
    assert len(attentions) == 4
    assert all(a.to_qkv.out_features < 3 * a.n_heads * 8 for a in attentions)


class EinsumNet(nn.Module):
    """Scores of two projections contracted over their channels, then a projection."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(6, 8), nn.Linear(6, 8), nn.Linear(6, 5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        scores = torch.einsum('bic,bjc->bij', self.q(x), self.k(x)).softmax(-1)
        return self.out(torch.einsum('bij,bjd->bid', scores, self.v(x)))


def test_einsum_pairs_contracted_channels_and_keeps_the_others():
    units = ChannelAnalyzer(demo_input=(1, 4, 6), tracer_type='FxTracer').analyze(
        EinsumNet())
    # q and k outputs are contracted together: one unit; v's channels reach ``out``
    assert [c['name'] for c in units['q_(0, 8)_8']['channels']['output_related']] == [
        'q', 'k']
    assert [c['name'] for c in units['v_(0, 5)_5']['channels']['input_related']] == ['out']


class BiasKVAttention(nn.Module):
    """``nn.MultiheadAttention`` with learned key/value biases: no dynamic op for it."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(6, 12)
        self.attn = nn.MultiheadAttention(12, 3, add_bias_kv=True, batch_first=True)
        self.head = nn.Linear(12, 2)

    def forward(self, x):
        x = self.embed(x)
        return self.head(self.attn(x, x, x)[0])


def test_attention_without_a_dynamic_op_freezes_its_channels():
    analyzer = ChannelAnalyzer(demo_input=(1, 4, 6), tracer_type='FxTracer')
    with pytest.warns(UserWarning, match='attn'):  # it hides out_proj: said by name
        units = analyzer.analyze(BiasKVAttention())
    assert units == {}
    assert ('embed', 12, "inside MultiheadAttention 'attn'") in analyzer.report()

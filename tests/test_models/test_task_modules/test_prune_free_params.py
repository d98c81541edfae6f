"""Parameters used directly in ``forward`` (ConvNeXt's layer scale, DeiT's position
embedding and class token) are pruned with the channels they meet.

Before, such channels were frozen: ConvNeXt-T (32x32) pruned 18 of its 59 conv/linear
layers (now 58, all but the classifier), DeiT-tiny only its MLP hidden widths (12 of 50,
now 49 with the head dims of test_prune_attention_heads.py).
"""
import random

import pytest
import torch
import torch.nn as nn
import torchvision
from mmengine.config import Config
from torch.nn.utils import parametrize

from mmrazor.models.mutables.mutable_channel.units import L1MutableChannelUnit
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.models.task_modules.tracer import ChannelAnalyzer
from mmrazor.structures import export_fix_subnet, load_fix_subnet
from mmrazor.utils import build_model_from_config

from ...pruning_helpers import Pruned

SHAPE = (1, 3, 32, 32)


def convnext() -> nn.Module:
    return torchvision.models.convnext_tiny(num_classes=10)


def mm_convnext() -> nn.Module:
    """mmpretrain's ConvNeXt (``gamma``; LayerNorm2d in both data formats), shrunk."""
    arch = dict(depths=[1, 1, 2, 1], channels=[16, 32, 48, 64])
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='ConvNeXt', arch=arch),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=64)))))


def deit() -> nn.Module:
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier',
        backbone=dict(type='VisionTransformer', arch='deit-tiny', img_size=32, patch_size=8),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=192)))))


def layers(model: nn.Module):
    return {name: m for name, m in model.named_modules()
            if isinstance(m, (nn.Conv2d, nn.Linear))}


def run(name: str, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x) if name == 'convnext' else model(x, None, 'tensor')


CASES = {
    # (builder, input shape, a pruned parameter, its dim, conv/linear layers pruned):
    # all but the classifier, whose outputs are the model's
    'convnext': (convnext, SHAPE, 'features.1.0.layer_scale', 0, 58),
    'mm_convnext': (mm_convnext, (1, 3, 64, 64), 'backbone.stages.0.0.gamma', 0, 19),
    'deit': (deit, SHAPE, 'backbone.pos_embed', 2, 49),
}


@pytest.mark.parametrize('name', list(CASES))
def test_prune_with_parameters_export_and_reload(name, tmp_path):
    build, shape, param_name, dim, num_pruned = CASES[name]
    torch.manual_seed(0)
    model = build().eval()
    original = {n: p.shape for n, p in model.named_parameters()}
    pruned = Pruned(model, shape).eval()
    units = pruned.mutator.mutable_units
    param_units = [u for u in units for c in u.param_channels if c.name == param_name]
    assert len(param_units) == 1 and param_units[0].param_channels[0].dim == dim

    rng = random.Random(0)
    pruned.mutator.set_choices({u.name: rng.uniform(0.5, 0.8) for u in units})
    x = torch.rand(shape)
    with torch.no_grad():
        expected = run(name, model, x)  # the masked (dynamic) model
        subnet, static = export_fix_subnet(pruned, 'mutator', slice_weight=True,
                                           export_channel=True)
        got = run(name, static, x)
    assert (got - expected).abs().max() <= 1e-5

    # every unit was pruned: the layers it produces have fewer output channels
    full = layers(build())
    narrower = [n for n, m in layers(static).items()
                if m.weight.shape[0] < full[n].weight.shape[0]]
    assert len(narrower) == num_pruned
    # plain, smaller parameters: nothing parametrized is left
    assert not any(parametrize.is_parametrized(m) for m in static.modules())
    params = dict(static.named_parameters())
    assert type(params[param_name]) is nn.Parameter
    assert params[param_name].shape[dim] == int(param_units[0].current_mask.sum())
    assert params[param_name].shape[dim] < original[param_name][dim]
    # the estimator counts the dynamic model at its current widths
    static_params = sum(p.numel() for p in static.parameters())
    counted = get_model_flops_params(model, input_shape=shape, units=dict(flops=None, params=None))
    assert counted[1] == static_params

    # deploy: a plain state_dict loaded into the same model sliced to the same widths
    torch.save(static.state_dict(), tmp_path / 'pruned.pth')
    state = torch.load(tmp_path / 'pruned.pth', weights_only=True)
    fresh = build().eval()
    load_fix_subnet(fresh, subnet, 'mutator')
    fresh.load_state_dict(state)
    with torch.no_grad():
        assert (run(name, fresh, x) - expected).abs().max() <= 1e-5


def test_pruning_keeps_checkpoint_names():
    """A checkpoint of the unpruned model still loads once its parameters are
    parametrized (the runner loads pretrained weights after the mutator is built)."""
    torch.manual_seed(0)
    model = convnext().eval()
    checkpoint = convnext().state_dict()
    Pruned(model)
    assert parametrize.is_parametrized(model.features[1][0], 'layer_scale')
    assert set(model.state_dict()) == set(checkpoint)
    model.load_state_dict(checkpoint)
    assert torch.equal(model.features[1][0].parametrizations.layer_scale.original,
                       checkpoint['features.1.0.layer_scale'])


class Scaled(nn.Module):
    """conv -> per-channel scale -> conv; the scale read as a broadcast ``mul``, as an
    ``einsum``, or through a ``cumsum`` (which mixes channels)."""

    def __init__(self, mode: str = 'mul') -> None:
        super().__init__()
        self.mode = mode
        self.conv1, self.conv2 = nn.Conv2d(3, 8, 1), nn.Conv2d(8, 4, 1)
        self.scale = nn.Parameter(torch.rand(8))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        if self.mode == 'einsum':
            x = torch.einsum('nchw,c->nchw', x, self.scale)
        elif self.mode == 'cumsum':
            x = x * torch.cumsum(self.scale, 0).view(1, -1, 1, 1)
        else:
            x = x * self.scale.view(1, -1, 1, 1)
        return self.conv2(x)


def test_parameter_used_an_unknown_way_freezes_its_channels():
    analyzer = ChannelAnalyzer((1, 3, 4, 4), tracer_type='FxTracer')
    assert analyzer.analyze(Scaled('cumsum')) == {}
    # cumsum's output carries no channels: the mul meets channels it cannot follow
    assert ('conv1', 8, 'mul: meets channels it cannot prune') in analyzer.report()
    for mode in ('mul', 'einsum'):  # both followed: the scale is pruned with conv1
        units = analyzer.analyze(Scaled(mode))
        channels = units['conv1_(0, 8)_8']['channels']['input_related']
        assert dict(name='scale', start=0, end=8, expand_ratio=1, is_output_channel=False,
                    dim=0) in channels, mode


def test_bad_parameter_channel_config():
    model = Scaled()
    channel = dict(name='scales', start=0, end=8, dim=0)
    config = dict(channels=dict(output_related=[dict(name='conv1', start=0, end=8)],
                                input_related=[channel]))
    with pytest.raises(KeyError, match="'scales' is not a parameter.*'scale'"):
        L1MutableChannelUnit.init_from_cfg(model, config)
    channel.update(name='scale', dim=1)
    with pytest.raises(ValueError, match=r'shape \(8,\) has no channels \[0, 8\) along dim 1'):
        L1MutableChannelUnit.init_from_cfg(model, config)


class OwnNorm(nn.LayerNorm):
    """A layer norm subclass that normalizes another dim than ``nn.LayerNorm``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, -1)).transpose(1, -1)


def test_norm_subclass_with_its_own_forward_is_not_pruned():
    model = nn.Sequential(nn.Conv2d(3, 8, 1), OwnNorm(8), nn.Conv2d(8, 4, 1))
    analyzer = ChannelAnalyzer((1, 3, 8, 8), tracer_type='FxTracer')
    assert analyzer.analyze(model) == {}
    assert ('0', 8, "inside OwnNorm '1'") in analyzer.report()


def test_dynamic_layer_norm_2d_takes_channels_first_norms_only():
    from mmrazor.models.architectures.dynamic_ops.dynamic_layer_norm_2d import DynamicLayerNorm2d
    with pytest.raises(ValueError, match='LayerNorm is not a channels-first layer norm'):
        DynamicLayerNorm2d.convert_from(nn.LayerNorm(8))


def test_gradients_reach_the_kept_channels_of_a_pruned_parameter():
    torch.manual_seed(0)
    model = Scaled()
    pruned = Pruned(model, (1, 3, 4, 4))
    pruned.mutator.set_choices({'conv1_(0, 8)_8': 0.5})
    kept = pruned.mutator.mutable_units[0].current_mask
    assert model.scale.shape == (4, )  # the dynamic model reads the kept channels only
    model(torch.rand(2, 3, 4, 4)).sum().backward()
    grad = model.parametrizations.scale.original.grad
    assert grad.shape == (8, ) and (grad[kept] != 0).all() and (grad[~kept] == 0).all()

"""Every unit the tracer finds can really be pruned: a representative subset of the
coverage benchmark (benchmarks/pruning_coverage.py runs all of it).

Each model: trace, prune every unit by a random 20-50%, run, export the static model;
the static model must give the pruned model's output and fewer FLOPs.
"""
import copy
import random

import pytest
import torch
import torch.nn as nn
import torchvision
from mmengine.config import Config

from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.structures import export_fix_subnet
from mmrazor.utils import build_model_from_config

from ...pruning_helpers import Pruned


def first_tensor(value):
    while not isinstance(value, torch.Tensor):
        value = value[0]
    return value


def mm_classifier(backbone: dict, in_channels: int, pool: bool = True) -> nn.Module:
    return build_model_from_config(Config(dict(model=dict(
        _scope_='mmpretrain', type='ImageClassifier', backbone=backbone,
        neck=dict(type='GlobalAveragePooling') if pool else None,
        head=dict(type='LinearClsHead', num_classes=10, in_channels=in_channels)))))


MODELS = {
    'resnet18': lambda: torchvision.models.resnet18(num_classes=10),
    'mobilenet_v3_small': lambda: torchvision.models.mobilenet_v3_small(num_classes=10),
    'shufflenet_v2_x0_5': lambda: torchvision.models.shufflenet_v2_x0_5(num_classes=10),
    'regnet_x_400mf (grouped convs)': lambda: torchvision.models.regnet_x_400mf(num_classes=10),
    'squeezenet1_1': lambda: torchvision.models.squeezenet1_1(num_classes=10),
    'efficientnet_b0 (squeeze-excite)': lambda: torchvision.models.efficientnet_b0(
        num_classes=10),
    'densenet121 (concat)': lambda: torchvision.models.densenet121(num_classes=10),
    'swin_t (attention, permutes)': lambda: torchvision.models.swin_t(num_classes=10),
    'mmpretrain MobileNetV2': lambda: mm_classifier(
        dict(type='MobileNetV2', widen_factor=0.5), 1280),
    'mmpretrain ViT': lambda: mm_classifier(
        dict(type='VisionTransformer', arch='deit-tiny', img_size=64, patch_size=16),
        192, pool=False),
}


@pytest.mark.parametrize('name', list(MODELS))
def test_prune_every_unit_export_and_match(name):
    torch.manual_seed(0)
    rng = random.Random(0)
    model = MODELS[name]().eval()
    shape = (1, 3, 64, 64)
    pruned = Pruned(model, shape).eval()
    units = pruned.mutator.mutable_units
    assert units, f'{name}: nothing prunable'
    pruned.mutator.set_choices({u.name: rng.uniform(0.5, 0.8) for u in units})
    x = torch.rand(shape)
    forward = (lambda m: m(x, None, 'tensor')) if 'mmpretrain' in name else (lambda m: m(x))
    with torch.no_grad():
        expected = first_tensor(forward(pruned.architecture))
        _, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
        got = first_tensor(forward(static))
    assert (got - expected).abs().max() <= 1e-5
    flops_pruned = get_model_flops_params(static, input_shape=shape)[0]
    flops_full = get_model_flops_params(copy.deepcopy(MODELS[name]()), input_shape=shape)[0]
    assert flops_pruned < 0.95 * flops_full


def test_layer_shared_under_two_names_is_pruned_once():
    """A head conv shared between levels (RTMDet's share_conv) sits under two names:
    both must become the same dynamic op."""
    class SharedHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a1, self.a2 = nn.Conv2d(3, 8, 1), nn.Conv2d(3, 8, 1)
            shared = nn.Conv2d(8, 4, 1)
            self.head1 = nn.Sequential(shared, nn.BatchNorm2d(4))
            self.head2 = nn.Sequential(shared, nn.BatchNorm2d(4))

        def forward(self, x):
            return self.head1(self.a1(x)), self.head2(self.a2(x))

    model = SharedHead().eval()
    pruned = Pruned(model, (1, 3, 8, 8)).eval()
    assert [u.name for u in pruned.mutator.mutable_units] == ['a1_(0, 8)_8']
    pruned.mutator.set_choices({'a1_(0, 8)_8': 0.5})
    assert model.head1[0] is model.head2[0]
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        expected = model(x)
        _, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
        got = static(x)
    assert static.head1[0] is static.head2[0] and static.head1[0].in_channels == 4
    for a, b in zip(got, expected):
        assert torch.allclose(a, b, atol=1e-6)

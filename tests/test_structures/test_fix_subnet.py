"""export_fix_subnet / load_fix_subnet / sub_model: the one subnet path."""
import copy
import json

import pytest
import torch
import torch.nn as nn
import torchvision

from mmrazor.models.architectures.dynamic_ops import DynamicConv2d, DynamicMixin
from mmrazor.models.mutables import MutableChannelContainer, OneShotMutableChannel
from mmrazor.models.mutators import ChannelMutator
from mmrazor.registry import MODELS
from mmrazor.structures import (
    export_fix_subnet,
    load_fix_subnet,
    sub_model,
    to_static_model,
)


class Pruned(nn.Module):
    """An algorithm-like holder: ``architecture`` + ``mutator``."""

    def __init__(self, architecture: nn.Module, ratio: float = 0.5) -> None:
        super().__init__()
        self.architecture = architecture
        self.mutator = ChannelMutator(
            channel_unit_cfg=dict(type='L1MutableChannelUnit',
                                  default_args=dict(choice_mode='ratio')),
            parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 32, 32),
                           tracer_type='FxTracer'))
        self.mutator.prepare_from_supernet(architecture)
        self.mutator.set_choices({name: ratio for name in self.mutator.choice_template})


def test_mutator_mode_round_trip_and_deploy(tmp_path):
    torch.manual_seed(0)
    original = torchvision.models.resnet18(num_classes=10).eval()
    pruned = Pruned(copy.deepcopy(original))
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = pruned.architecture(x)
    subnet, static = export_fix_subnet(pruned, 'mutator', slice_weight=True)
    assert not any(isinstance(m, DynamicMixin) for m in static.modules())
    assert static.layer1[0].conv1.out_channels == 32
    # the pruned model's choices survive: the algorithm is not fixed by exporting
    assert not pruned.mutator.mutable_units[0].is_fixed
    with torch.no_grad():
        assert torch.allclose(static(x), expected, atol=1e-5)

    # deploy: the plain config (here: the constructor) + the JSON + a plain state dict
    subnet_file = tmp_path / 'subnet.json'
    subnet_file.write_text(json.dumps(subnet))
    torch.save(static.state_dict(), tmp_path / 'pruned.pth')
    fresh = copy.deepcopy(original)
    load_fix_subnet(fresh, str(subnet_file), load_subnet_mode='mutator')
    fresh.load_state_dict(torch.load(tmp_path / 'pruned.pth', weights_only=True))
    with torch.no_grad():
        assert torch.allclose(fresh(x), expected, atol=1e-5)


def test_mutator_mode_with_channels_needs_no_tracing():
    original = torchvision.models.resnet18(num_classes=10).eval()
    pruned = Pruned(copy.deepcopy(original), ratio=0.25)
    subnet, _ = export_fix_subnet(pruned, 'mutator', export_channel=True)
    assert subnet['parse_cfg'] == {'type': 'Config'}
    fresh = copy.deepcopy(original)
    load_fix_subnet(fresh, subnet, load_subnet_mode='mutator')
    assert fresh.layer2[0].conv1.out_channels == 32


def test_bad_pruning_subnet_changes_nothing():
    original = torchvision.models.resnet18(num_classes=10).eval()
    subnet, _ = export_fix_subnet(Pruned(copy.deepcopy(original)), 'mutator')
    subnet['channel_unit_cfg']['units']['layer1.0.conv1_(0, 64)_64']['choice'] = 7.0
    fresh = copy.deepcopy(original)
    with pytest.raises(ValueError):
        load_fix_subnet(fresh, subnet, load_subnet_mode='mutator')
    with pytest.raises(KeyError, match='channel_unit_cfg'):
        load_fix_subnet(fresh, {'layer1': 0.5}, load_subnet_mode='mutator')
    with pytest.raises(ValueError, match="valid: mutable, mutator"):
        load_fix_subnet(fresh, {}, load_subnet_mode='mutators')
    with pytest.raises(TypeError, match='has none'):
        export_fix_subnet(fresh, 'mutator')


class Searchable(nn.Module):
    """A tiny supernet: one conv whose width is a one-shot choice."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Module()
        self.head.conv = DynamicConv2d(3, 8, 3)
        self.head.width = OneShotMutableChannel(8, candidate_choices=[4, 6, 8])
        self.head.conv.register_mutable_attr('in_channels', MutableChannelContainer(3))
        self.head.conv.register_mutable_attr('out_channels', MutableChannelContainer(8))
        MutableChannelContainer.register_mutable_channel_to_module(
            self.head.conv, self.head.width, True)

    def forward(self, x):
        return self.head.conv(x)


def test_mutable_mode_prefix_is_removed_not_stripped():
    class Algorithm(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.architecture = Searchable()

    algorithm = Algorithm()
    algorithm.architecture.head.width.current_choice = 6
    subnet, static = export_fix_subnet(algorithm, slice_weight=True)
    assert subnet == {'architecture.head.width': {'chosen': 6, 'meta': {'num_channels': 8}}}
    assert static.head.conv.out_channels == 6
    # MMRazor's lstrip('architecture.') turned 'architecture.head.width' into
    # 'd.width'; a real prefix removal keeps 'head.width'
    model = Algorithm()
    load_fix_subnet(model, {'head.width': {'chosen': 4}}, prefix='architecture.')
    assert isinstance(model.architecture.head.conv, nn.Conv2d)
    assert not isinstance(model.architecture.head.conv, DynamicMixin)
    assert model.architecture.head.conv.out_channels == 4


def test_bad_mutable_subnet_names_the_problem_and_changes_nothing():
    model = Searchable()
    with pytest.raises(KeyError, match=r"'head.widht' \(did you mean \['head.width'\]"):
        load_fix_subnet(model, {'head.width': 4, 'head.widht': 4})
    with pytest.raises(ValueError, match=r'not one of the choices.*\[4, 6, 8\]'):
        load_fix_subnet(model, {'head.width': {'chosen': 5}})
    with pytest.raises(KeyError, match='no choice for'):
        load_fix_subnet(model, {})
    assert not model.head.width.is_fixed
    assert isinstance(model.head.conv, DynamicMixin)


def test_to_static_model_refuses_unfixed_mutables():
    with pytest.raises(Exception, match='width|fixed'):
        to_static_model(Searchable())


def test_sub_model_builds_and_slices(tmp_path):
    subnet = tmp_path / 'subnet.yaml'
    subnet.write_text('head.width:\n  chosen: 6\n')
    MODELS.register_module(name='TinySearchable', module=Searchable, force=True)
    model = MODELS.build(dict(type='sub_model', cfg=dict(type='TinySearchable'),
                              fix_subnet=str(subnet)))
    assert model.head.conv.out_channels == 6
    assert sub_model is MODELS.get('sub_model')

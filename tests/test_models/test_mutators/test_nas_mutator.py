"""NasMutator on a single-path supernet made from a real mmpretrain classifier, on a
DARTS-style one and on predefined mutable channels."""
import copy
import random
from typing import Type

import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmrazor.models.architectures.dynamic_ops import DynamicConv2d
from mmrazor.models.mutables import (
    DiffMutableOP,
    MutableChannelContainer,
    MutableModule,
    OneShotMutableChannel,
    OneShotMutableOP,
    OneShotMutableValue,
)
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import get_module, replace_module

CLASSIFIER = dict(
    type='mmpretrain.ImageClassifier',
    backbone=dict(type='mmpretrain.ResNet_CIFAR', depth=18, num_stages=2, strides=(1, 2),
                  dilations=(1, 1), out_indices=(1, )),
    neck=dict(type='mmpretrain.GlobalAveragePooling'),
    head=dict(type='mmpretrain.LinearClsHead', num_classes=10, in_channels=128))


def choice_block(block: nn.Module, channels: int, alias=None,
                 op_type: Type[MutableModule] = OneShotMutableOP) -> MutableModule:
    """The original residual block or two plain convs in its place."""
    return op_type(dict(
        basic=block,
        conv3x3=ConvModule(channels, channels, 3, padding=1, norm_cfg=dict(type='BN')),
        conv1x1=ConvModule(channels, channels, 1, norm_cfg=dict(type='BN'))), alias=alias)


def spos_classifier(seed: int = 0, op_type: Type[MutableModule] = OneShotMutableOP
                    ) -> nn.Module:
    """ResNet-18 (CIFAR, two stages) with three searchable blocks: the blocks of layer1
    share the alias 'layer1'; layer2.1 searches alone."""
    torch.manual_seed(seed)
    model = MODELS.build(CLASSIFIER)
    for name, channels, alias in (('backbone.layer1.0', 64, 'layer1'),
                                  ('backbone.layer1.1', 64, 'layer1'),
                                  ('backbone.layer2.1', 128, None)):
        replace_module(model, name, choice_block(get_module(model, name), channels, alias,
                                                 op_type))
    return model.eval()


def test_groups_by_alias_then_one_group_per_mutable():
    model = spos_classifier()
    mutator = MODELS.build(dict(type='mmrazor.NasMutator'))
    mutator.prepare_from_supernet(model)
    groups = mutator.search_groups
    assert list(groups) == ['module_0', 'module_1']
    assert groups['module_0'] == [model.backbone.layer1[0], model.backbone.layer1[1]]
    assert groups['module_1'] == [model.backbone.layer2[1]]
    assert mutator.mutable_units == []


def test_custom_groups_by_name_and_alias():
    model = spos_classifier()
    mutator = NasMutator(custom_groups=[['backbone.layer2.1', 'layer1']])
    mutator.prepare_from_supernet(model)
    assert list(mutator.search_groups) == ['module_0']
    assert len(mutator.search_groups['module_0']) == 3
    split = NasMutator(custom_groups=[['backbone.layer1.1'], ['backbone.layer2.1']])
    split.prepare_from_supernet(model)
    # the alias group keeps the member that no custom group took
    assert [len(g) for g in split.search_groups.values()] == [1, 1, 1]
    assert split.search_groups['module_2'] == [model.backbone.layer1[0]]


def test_bad_groups_are_named_and_change_nothing():
    model = spos_classifier()
    with pytest.raises(KeyError, match=r"'backbone.layer2.l' names no op or value mutable.*"
                                       r'did you mean backbone.layer2.1'):
        NasMutator(custom_groups=[['backbone.layer2.l']]).prepare_from_supernet(model)
    with pytest.raises(ValueError, match="'backbone.layer1.0' is grouped twice"):
        NasMutator(custom_groups=[['layer1'], ['backbone.layer1.0']]).prepare_from_supernet(
            model)
    with pytest.raises(TypeError, match='must be a list of lists'):
        NasMutator(custom_groups=['layer1'])
    model.backbone.layer2[1].alias = 'layer1'  # 128-channel block, other candidates
    model.backbone.layer2[1]._candidates['conv5x5'] = nn.Identity()
    mutator = NasMutator()
    with pytest.raises(ValueError, match=r"'module_0'.*different choices.*'backbone.layer2.1' "
                                         r"\['basic', 'conv3x3', 'conv1x1', 'conv5x5'\]"):
        mutator.prepare_from_supernet(model)
    with pytest.raises(RuntimeError, match='call prepare_from_supernet'):
        mutator.search_groups


class ValueNet(nn.Module):
    """A value and an op, to check prefixes and max / min across kinds."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = OneShotMutableValue([1, 2, 3])
        self.op = OneShotMutableOP(dict(small=nn.Conv2d(2, 2, 1), large=nn.Conv2d(2, 2, 3)))


def test_sample_choices_max_min_and_random():
    model = spos_classifier()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    assert mutator.max_choices == {'module_0': 'basic', 'module_1': 'basic'}
    assert mutator.min_choices == {'module_0': 'conv1x1', 'module_1': 'conv1x1'}
    assert mutator.sample_choices('max') == mutator.max_choices
    assert mutator.sample_choices('min') == mutator.min_choices
    samples = []
    for seed in range(2):
        random.seed(seed)
        samples.append([mutator.sample_choices() for _ in range(5)])
    assert samples[0] != samples[1]
    with pytest.raises(ValueError, match=r"kind must be one of \('random', 'max', 'min'\)"):
        mutator.sample_choices('largest')
    values = NasMutator()
    values.prepare_from_supernet(ValueNet())
    assert values.max_choices == {'value_0': 3, 'module_1': 'large'}
    values.set_min_choices()
    assert values.current_choices == {'value_0': 1, 'module_1': 'small'}
    values.set_max_choices()
    assert values.current_choices == values.max_choices


def test_set_choices_changes_the_forward_and_is_atomic():
    model = spos_classifier()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    x = torch.rand(2, 3, 32, 32)
    outputs = {}
    for choice in ('basic', 'conv1x1'):
        mutator.set_choices({'module_0': choice, 'module_1': choice})
        assert model.backbone.layer1[1].current_choice == choice
        with torch.no_grad():
            outputs[choice] = model(x, mode='tensor')
    assert not torch.allclose(outputs['basic'], outputs['conv1x1'])
    before = mutator.current_choices
    with pytest.raises(ValueError, match=r"group 'module_1'.*choice 'conv7x7' is not one of"):
        mutator.set_choices({'module_0': 'conv3x3', 'module_1': 'conv7x7'})
    with pytest.raises(KeyError, match=r"'module_2' \(did you mean \[.*'module_1'"):
        mutator.set_choices({'module_0': 'basic', 'module_1': 'basic', 'module_2': 'basic'})
    with pytest.raises(KeyError, match=r"missing \['module_1'\]"):
        mutator.set_choices({'module_0': 'conv3x3'})
    assert mutator.current_choices == before
    model.backbone.layer2[1].fix_chosen()
    with pytest.raises(AttributeError, match="fixed at 'conv1x1'; it cannot take 'basic'"):
        mutator.set_choices({'module_0': 'basic', 'module_1': 'basic'})
    assert mutator.current_choices == before


def test_arch_params_drive_differentiable_ops():
    model = spos_classifier(op_type=DiffMutableOP)
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    with pytest.raises(RuntimeError, match=r'call prepare_arch_params\(\) first'):
        mutator.arch_params
    mutator.prepare_arch_params()
    params = mutator.arch_params
    assert isinstance(params, nn.ParameterDict) and list(params) == ['module_0', 'module_1']
    assert params['module_0'].shape == (3, ) and params['module_0'].abs().max() < 0.01
    # the architecture's optimizer must not see them: they are the mutator's
    assert not any(p is params['module_0'] for p in model.parameters())
    x = torch.rand(2, 3, 32, 32)
    model(x, mode='tensor').sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in params.values())
    with torch.no_grad():
        params['module_0'].copy_(torch.tensor([0.0, 0.0, 5.0]))
        params['module_1'].copy_(torch.tensor([0.0, 5.0, 0.0]))
    assert mutator.sample_choices() == {'module_0': 'conv1x1', 'module_1': 'conv3x3'}
    with pytest.warns(UserWarning, match='have no max choice'):
        assert mutator.max_choices == mutator.sample_choices()
    with torch.no_grad():  # changing the parameters changes the forward
        before = model(x, mode='tensor')
        params['module_1'].copy_(torch.tensor([5.0, 0.0, 0.0]))
        assert not torch.allclose(model(x, mode='tensor'), before)
    copied = copy.deepcopy(nn.ModuleDict(dict(model=model, mutator=mutator)))
    assert copied['model'].backbone.layer1[0]._default_arch_param is \
        copied['mutator'].arch_params['module_0']


class PredefinedChannels(nn.Module):
    """Two convs whose shared width is a predefined mutable channel (BigNAS style)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = DynamicConv2d.convert_from(nn.Conv2d(3, 8, 3, padding=1))
        self.conv2 = DynamicConv2d.convert_from(nn.Conv2d(8, 4, 1))
        self.conv1.register_mutable_attr('out_channels', MutableChannelContainer(8))
        self.conv2.register_mutable_attr('in_channels', MutableChannelContainer(8))
        width = OneShotMutableChannel(8, candidate_choices=[2, 4, 8])
        for conv, is_out in ((self.conv1, True), (self.conv2, False)):
            MutableChannelContainer.register_mutable_channel_to_module(conv, width, is_out)
        self.op = OneShotMutableOP(dict(a=nn.Identity(), b=nn.ReLU()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(self.conv2(self.conv1(x)))


def test_channel_groups_from_predefined_mutable_channels():
    model = PredefinedChannels()
    mutator = NasMutator()
    mutator.prepare_from_supernet(model)
    assert list(mutator.search_groups) == ['channel_0', 'module_0']
    assert len(mutator.mutable_units) == 1
    assert mutator.max_choices['channel_0'] == 8 and mutator.min_choices['channel_0'] == 2
    mutator.set_choices({'channel_0': 4, 'module_0': 'a'})
    assert model.conv1.active_parameters()['weight'].shape[0] == 4
    assert model(torch.rand(1, 3, 4, 4)).shape == (1, 4, 4, 4)
    with pytest.raises(ValueError, match=r"'channel_0': choice 3 is not one of \[2, 4, 8\]"):
        mutator.set_choices({'channel_0': 3, 'module_0': 'b'})
    assert mutator.current_choices == {'channel_0': 4, 'module_0': 'a'}
    assert 'mutable_units' not in ''.join(mutator.state_dict())

"""ChannelMutator: Config / Predefined / analyzer parsing, choices, export, on small
nets and a real mmpretrain ResNet-18."""
import json

import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.models.mutators import (
                                     ChannelMutator,
                                     OneShotChannelMutator,
                                     SlimmableChannelMutator,
)
from mmrazor.models.task_modules.estimators import ResourceEstimator
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.registry.suggestions import UnknownTypeError
from mmrazor.utils.lookup import replace_module


class SmallNet(nn.Module):
    """conv1 -> bn1 -> conv2 -> bn2 -> pool(2) -> flatten -> fc."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))


def ch(name, start, end, expand_ratio=1):
    return dict(name=name, start=start, end=end, expand_ratio=expand_ratio)


def unit(out, inputs, num):
    return dict(init_args=dict(num_channels=num),
                channels=dict(output_related=out, input_related=inputs))


SMALL_UNITS = {
    'conv1_(0, 8)_8': unit([ch('conv1', 0, 8), ch('bn1', 0, 8)],
                           [ch('bn1', 0, 8), ch('conv2', 0, 8)], 8),
    'conv2_(0, 16)_16': unit([ch('conv2', 0, 16), ch('bn2', 0, 16)],
                             [ch('bn2', 0, 16), ch('fc', 0, 64, 4)], 16),
}


def small_net(seed: int = 0) -> SmallNet:
    torch.manual_seed(seed)
    model = SmallNet()
    with torch.no_grad():  # non-trivial BN statistics
        for bn in (model.bn1, model.bn2):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
    return model.eval()


def config_mutator(units=SMALL_UNITS, unit_type='SequentialMutableChannelUnit', **kwargs):
    return ChannelMutator(channel_unit_cfg=dict(type=unit_type, units=units, **kwargs),
                          parse_cfg=dict(type='Config'))


def to_static(model: nn.Module) -> nn.Module:
    """Every dynamic op replaced by its static op."""
    for name, module in list(model.named_modules()):
        if isinstance(module, DynamicMixin):
            replace_module(model, name, module.to_static_op())
    return model


def flops(model: nn.Module, shape=(1, 3, 8, 8)) -> float:
    estimator = ResourceEstimator(input_shape=shape, units=dict(flops=None, params=None))
    return estimator.estimate(model)['flops']


def test_config_mode_prunes_and_exports_a_small_net():
    model = small_net()
    full_flops = flops(model)
    mutator = config_mutator()
    mutator.prepare_from_supernet(model)
    assert [u.name for u in mutator.mutable_units] == list(SMALL_UNITS)
    mutator.set_choices({'conv1_(0, 8)_8': 3, 'conv2_(0, 16)_16': 10})
    assert mutator.current_choices == {'conv1_(0, 8)_8': 3, 'conv2_(0, 16)_16': 10}
    x = torch.randn(2, 3, 8, 8)
    pruned_out, pruned_flops = model(x), flops(model)
    assert pruned_flops < full_flops
    mutator.fix_channel_mutables()
    static = to_static(model)
    assert not any(isinstance(m, DynamicMixin) for m in static.modules())
    assert (static.conv2.in_channels, static.conv2.out_channels, static.fc.in_features) == \
        (3, 10, 40)
    torch.testing.assert_close(static(x), pruned_out, atol=1e-5, rtol=0)
    assert flops(static) == pruned_flops


def test_template_round_trips_through_a_json_file(tmp_path):
    model = small_net()
    mutator = config_mutator()
    mutator.prepare_from_supernet(model)
    mutator.set_choices({'conv1_(0, 8)_8': 5, 'conv2_(0, 16)_16': 7})
    template = mutator.config_template(with_unit_init_args=True, with_channels=True)
    assert template['type'] == 'ChannelMutator' and template['parse_cfg'] == dict(type='Config')
    assert template['channel_unit_cfg']['units']['conv1_(0, 8)_8']['choice'] == 5
    path = tmp_path / 'units.json'
    path.write_text(json.dumps(template))
    again = small_net()
    loaded = ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChannelUnit',
                                                  units=str(path)),
                            parse_cfg=dict(type='Config'))
    loaded.prepare_from_supernet(again)
    assert loaded.current_choices == mutator.current_choices
    x = torch.randn(1, 3, 8, 8)
    torch.testing.assert_close(again(x), model(x))
    assert mutator.config_template() == dict(
        type='ChannelMutator', parse_cfg=dict(type='Config'),
        channel_unit_cfg=dict(type='SequentialMutableChannelUnit', default_args={},
                              units={'conv1_(0, 8)_8': dict(choice=5),
                                     'conv2_(0, 16)_16': dict(choice=7)}))


def test_a_json_made_for_another_model_leaves_the_model_untouched(tmp_path):
    other = dict(SMALL_UNITS)
    other['conv2_(0, 32)_32'] = unit([ch('conv2', 0, 32), ch('bn2', 0, 32)],
                                     [ch('bn2', 0, 32)], 32)
    model = small_net()
    with pytest.raises(ValueError, match="'conv2' has 16 output channels, but the unit uses "
                                         r'\[0, 32\)'):
        config_mutator(other).prepare_from_supernet(model)
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    missing = {'conv3_(0, 8)_8': unit([ch('conv3', 0, 8)], [], 8)}
    with pytest.raises(KeyError, match="unit 'conv3_\\(0, 8\\)_8'.*No module 'conv3'.*"
                                       'closest: conv2, conv1'):
        config_mutator(missing).prepare_from_supernet(model)
    no_channels = {'conv1_(0, 8)_8': dict(choice=4)}
    with pytest.raises(KeyError, match="has no 'channels'"):
        config_mutator(no_channels).prepare_from_supernet(model)
    with pytest.raises(FileNotFoundError, match='no file'):
        config_mutator(str(tmp_path / 'missing.json'))
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())


def test_set_choices_checks_names_and_ranges_and_changes_nothing_on_error():
    mutator = config_mutator()
    mutator.prepare_from_supernet(small_net())
    mutator.set_choices({'conv1_(0, 8)_8': 4})
    with pytest.raises(KeyError, match=r"unknown mutable unit name 'conv1_\(0, 8\)_9' "
                                       r"\(closest: conv1_\(0, 8\)_8"):
        mutator.set_choices({'conv1_(0, 8)_9': 4})
    with pytest.raises(ValueError, match=r'choice 17 is not in \[1, 16\]'):
        mutator.set_choices({'conv1_(0, 8)_8': 2, 'conv2_(0, 16)_16': 17})
    assert mutator.current_choices == {'conv1_(0, 8)_8': 4, 'conv2_(0, 16)_16': 16}
    mutator.fix_channel_mutables()
    with pytest.raises(AttributeError, match='is fixed'):
        mutator.set_choices({'conv1_(0, 8)_8': 2})


def test_bad_unit_configs_raise():
    with pytest.raises(UnknownTypeError, match='SequentialMutableChannelUnit'):
        ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChanelUnit'))
    with pytest.raises(TypeError, match="'divisr' \\(did you mean 'divisor'\\?\\)"):
        ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChannelUnit',
                                             default_args=dict(divisr=8)))
    with pytest.raises(KeyError, match=r"unknown keys \['unit'\] in channel_unit_cfg"):
        ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChannelUnit', unit={}))
    with pytest.raises(TypeError, match='must be a MutableChannelUnit'):
        ChannelMutator(channel_unit_cfg=dict(type='DynamicConv2d'))


@TASK_UTILS.register_module(name='_ToySmallNetAnalyzer', force=True)
class ToySmallNetAnalyzer:
    """Stands in for ChannelAnalyzer: the units of SmallNet, as analyze returns them."""

    def __init__(self, demo_input=(1, 3, 8, 8)) -> None:
        self.demo_input = demo_input

    def analyze(self, model: nn.Module) -> dict:
        return {name: dict(init_args=dict(cfg['init_args']), channels=cfg['channels'])
                for name, cfg in SMALL_UNITS.items()}


def test_analyzer_mode_builds_units_from_the_analysis():
    model = small_net()
    mutator = ChannelMutator(
        channel_unit_cfg=dict(type='L1MutableChannelUnit',
                              default_args=dict(choice_mode='ratio'),
                              units={'conv2_(0, 16)_16': dict(choice=0.5)}),
        parse_cfg=dict(type='_ToySmallNetAnalyzer'))
    mutator.prepare_from_supernet(model)
    assert mutator.current_choices == {'conv1_(0, 8)_8': 1.0, 'conv2_(0, 16)_16': 0.5}
    assert model.fc.active_parameters()['weight'].shape == (10, 32)
    unknown = ChannelMutator(
        channel_unit_cfg=dict(type='L1MutableChannelUnit',
                              units={'conv2_(0, 16)_61': dict(choice=4)}),
        parse_cfg=dict(type='_ToySmallNetAnalyzer'))
    with pytest.raises(KeyError, match=r"'conv2_\(0, 16\)_61' \(closest: conv2_\(0, 16\)_16"):
        unknown.prepare_from_supernet(small_net())
    resized = ChannelMutator(
        channel_unit_cfg=dict(type='L1MutableChannelUnit', units={
            'conv2_(0, 16)_16': dict(init_args=dict(num_channels=32))}),
        parse_cfg=dict(type='_ToySmallNetAnalyzer'))
    with pytest.raises(ValueError, match='has 16 channels in this model, but the unit '
                                         'config says 32'):
        resized.prepare_from_supernet(small_net())


def test_predefined_mode_finds_the_mutables_already_in_the_model():
    model = small_net()
    config_mutator().prepare_from_supernet(model)
    model.conv1.mutable_out_channels.mutable_channels[(0, 8)].current_choice = 6
    mutator = ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChannelUnit',
                                                   units={'conv2_(0, 16)_16': dict(choice=4)}),
                             parse_cfg=dict(type='Predefined'))
    mutator.prepare_from_supernet(model)
    assert mutator.current_choices == {'conv1_(0, 8)_8': 6, 'conv2_(0, 16)_16': 4}


def test_one_shot_mutator_samples_max_min_and_random():
    model = small_net()
    mutator = OneShotChannelMutator(
        channel_unit_cfg=dict(type='OneShotMutableChannelUnit',
                              default_args=dict(candidate_choices=[0.25, 0.5, 1.0]),
                              units=SMALL_UNITS),
        parse_cfg=dict(type='Config'))
    mutator.prepare_from_supernet(model)
    mutator.set_min_choices()
    assert set(mutator.current_choices.values()) == {0.25}
    assert model.conv2.active_parameters()['weight'].shape[:2] == (4, 2)
    mutator.set_max_choices()
    assert set(mutator.current_choices.values()) == {1.0}
    assert mutator.sample_choices('min') == mutator.min_choices
    assert set(mutator.sample_choices().values()) <= {0.25, 0.5, 1.0}
    with pytest.raises(ValueError, match="kind must be one of \\('random', 'max', 'min'\\)"):
        mutator.sample_choices('median')


def test_slimmable_mutator_subnets_and_custom_groups():
    units = {name: dict(cfg, init_args=dict(cfg['init_args'],
                                            candidate_choices=[2, cfg['init_args'][
                                                'num_channels']]))
             for name, cfg in SMALL_UNITS.items()}
    mutator = SlimmableChannelMutator(
        channel_unit_cfg=dict(type='SlimmableChannelUnit', units=units),
        parse_cfg=dict(type='Config'), custom_groups=[list(SMALL_UNITS)])
    mutator.prepare_from_supernet(small_net())
    assert mutator.subnets == [{'conv1_(0, 8)_8': 2, 'conv2_(0, 16)_16': 2},
                               {'conv1_(0, 8)_8': 8, 'conv2_(0, 16)_16': 16}]
    assert len(mutator.search_groups) == 1
    for _ in range(5):  # one group: one sampled choice for both
        assert len(set(mutator.sample_choices().values())) == 1
    with pytest.raises(KeyError, match="custom_groups: unknown mutable unit names 'fc'"):
        ChannelMutator(channel_unit_cfg=dict(type='SequentialMutableChannelUnit',
                                             units=SMALL_UNITS),
                       parse_cfg=dict(type='Config'),
                       custom_groups=[['fc']]).prepare_from_supernet(small_net())


# ---- a real mmpretrain ResNet-18 --------------------------------------------------

RESNET_UNITS = {
    'backbone.layer1.0.conv1_(0, 64)_64': unit(
        [ch('backbone.layer1.0.conv1', 0, 64), ch('backbone.layer1.0.bn1', 0, 64)],
        [ch('backbone.layer1.0.bn1', 0, 64), ch('backbone.layer1.0.conv2', 0, 64)], 64),
    'backbone.layer4.1.conv1_(0, 512)_512': unit(
        [ch('backbone.layer4.1.conv1', 0, 512), ch('backbone.layer4.1.bn1', 0, 512)],
        [ch('backbone.layer4.1.bn1', 0, 512), ch('backbone.layer4.1.conv2', 0, 512)], 512),
}


def resnet18() -> nn.Module:
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='mmpretrain.ResNet', depth=18),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=10, in_channels=512)))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def test_l1_pruning_of_a_real_resnet18_exports_an_equal_static_model():
    model = resnet18()
    x = torch.randn(2, 3, 64, 64)
    full_flops = flops(model, (1, 3, 64, 64))
    mutator = config_mutator(RESNET_UNITS, 'L1MutableChannelUnit',
                             default_args=dict(choice_mode='ratio'))
    mutator.prepare_from_supernet(model)
    mutator.set_choices({'backbone.layer1.0.conv1_(0, 64)_64': 0.25,
                         'backbone.layer4.1.conv1_(0, 512)_512': 0.5})
    conv1 = model.backbone.layer1[0].conv1
    norms = conv1.weight.detach().abs().sum((1, 2, 3))
    kept = mutator.units[0].current_mask.nonzero().flatten()
    assert sorted(kept.tolist()) == sorted(norms.topk(16).indices.tolist())
    pruned_out = model(x, mode='tensor')
    pruned_flops = flops(model, (1, 3, 64, 64))
    assert pruned_flops < full_flops
    mutator.fix_channel_mutables()
    static = to_static(model)
    assert type(static.backbone.layer1[0].conv1) is nn.Conv2d
    assert static.backbone.layer1[0].conv2.in_channels == 16
    assert static.backbone.layer4[1].bn1.num_features == 256
    torch.testing.assert_close(static(x, mode='tensor'), pruned_out, atol=1e-5, rtol=0)
    assert flops(static, (1, 3, 64, 64)) == pruned_flops

"""Channel units: built from configs, prepared on a real net, choices to masks."""
import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import (
                                                      DynamicBatchNorm2d,
                                                      DynamicConv2d,
                                                      DynamicLinear,
                                                      SwitchableBatchNorm2d,
)
from mmrazor.models.mutables import (
                                     L1MutableChannelUnit,
                                     OneShotMutableChannelUnit,
                                     SequentialMutableChannelUnit,
                                     SlimmableChannelUnit,
)
from mmrazor.registry import MODELS


class DepthwiseNet(nn.Module):
    """conv1 -> bn1 -> depthwise dw -> bn2 -> conv2 -> bn3 -> pool -> flatten -> fc."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 1)
        self.bn3 = nn.BatchNorm2d(16)
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.dw(x)))
        x = torch.relu(self.bn3(self.conv2(x)))
        return self.fc(self.pool(x).flatten(1))


def ch(name, start, end, expand_ratio=1):
    return dict(name=name, start=start, end=end, expand_ratio=expand_ratio)


UNIT_8 = dict(init_args=dict(num_channels=8), channels=dict(
    output_related=[ch('conv1', 0, 8), ch('bn1', 0, 8), ch('dw', 0, 8), ch('bn2', 0, 8)],
    input_related=[ch('bn1', 0, 8), ch('dw', 0, 8), ch('bn2', 0, 8), ch('conv2', 0, 8)]))
UNIT_16 = dict(init_args=dict(num_channels=16), channels=dict(
    output_related=[ch('conv2', 0, 16), ch('bn3', 0, 16)],
    input_related=[ch('bn3', 0, 16), ch('fc', 0, 64, expand_ratio=4)]))


def prepared(unit_cls=SequentialMutableChannelUnit, **init_args):
    torch.manual_seed(0)
    model = DepthwiseNet().eval()
    units = []
    for cfg in (UNIT_8, UNIT_16):
        cfg = dict(cfg, init_args=dict(cfg['init_args'], **init_args))
        unit = unit_cls.init_from_cfg(model, cfg)
        unit.prepare_for_pruning(model)
        units.append(unit)
    return model, units


def test_unit_from_config_names_and_templates():
    model = DepthwiseNet()
    unit = SequentialMutableChannelUnit.init_from_cfg(model, UNIT_16)
    assert unit.name == 'conv2_(0, 16)_16'
    assert [c.name for c in unit.output_related] == ['conv2', 'bn3']
    assert unit.input_related[1].expand_ratio == 4
    template = unit.config_template(with_init_args=True, with_channels=True)
    assert template['choice'] == 16
    assert template['init_args'] == dict(num_channels=16, choice_mode='number', divisor=1,
                                         min_value=1, min_ratio=0.9)
    assert template['channels']['input_related'][1] == dict(
        name='fc', start=0, end=64, expand_ratio=4, is_output_channel=False)
    assert unit.config_template() == dict(choice=16)
    assert unit.is_mutable
    assert MODELS.get('SequentialMutableChannelUnit') is SequentialMutableChannelUnit


def test_prepare_makes_layers_dynamic_and_prunes_the_forward():
    model, (unit8, unit16) = prepared()
    assert isinstance(model.conv1, DynamicConv2d) and isinstance(model.bn1, DynamicBatchNorm2d)
    assert isinstance(model.fc, DynamicLinear)
    assert unit8.output_related[0].module is model.conv1
    unit8.current_choice = 4
    unit16.current_choice = 5
    assert model.dw.active_parameters()['weight'].shape == (4, 1, 3, 3)  # depthwise
    assert model.fc.active_parameters()['weight'].shape == (10, 20)  # 5 channels x 4
    x = torch.randn(2, 3, 8, 8)
    out = model(x)
    assert out.shape == (2, 10)
    # the same as the unpruned net with the pruned channels' producers zeroed
    torch.manual_seed(0)
    reference = DepthwiseNet().eval()
    with torch.no_grad():
        for layer, keep in ((reference.bn1, 4), (reference.bn2, 4), (reference.bn3, 5)):
            layer.weight[keep:] = 0
            layer.bias[keep:] = 0
    torch.testing.assert_close(out, reference(x), atol=1e-5, rtol=0)


def test_sequential_choices_round_and_check():
    unit = SequentialMutableChannelUnit(6, divisor=4)
    unit.current_choice = 6
    assert unit.current_choice == 6  # 8 clamped to the unit's width
    unit.current_choice = 5
    assert unit.current_choice == 6  # 4 would lose more than 10% of 5
    unit.current_choice = 3
    assert unit.current_choice == 4
    assert unit.min_choice == 1 and unit.max_choice == 6  # min_value=1 wins, as in MMRazor
    assert unit.sample_choice() in (1, 4, 6)
    ratio = SequentialMutableChannelUnit(10, choice_mode='ratio')
    ratio.current_choice = 0.3
    assert ratio.current_choice == pytest.approx(0.3)
    assert ratio.mutable_channel.activated_channels == 3
    with pytest.raises(ValueError, match=r'choice 7 is not in \[1, 6\] \(the unit has 6'):
        unit.current_choice = 7
    with pytest.raises(TypeError, match="choice_mode='number': a choice is an int"):
        unit.current_choice = 0.5
    with pytest.raises(ValueError, match=r"choice_mode='ratio': a choice is in \(0, 1\]"):
        ratio.current_choice = 2
    with pytest.raises(ValueError, match='divisor must be a positive int'):
        SequentialMutableChannelUnit(6, divisor=0)


def test_l1_unit_keeps_the_channels_with_largest_weight_norm():
    model, (unit8, _) = prepared(L1MutableChannelUnit)
    norms = torch.tensor([5., 1., 7., 3., 8., 2., 6., 4.])
    with torch.no_grad():
        model.conv1.weight.copy_(torch.ones_like(model.conv1.weight) * 0.01)
        model.conv1.weight[:, 0, 0, 0] = norms
        model.dw.weight.zero_()  # the depthwise conv is output-related too
    unit8.current_choice = 3
    assert unit8.current_mask.nonzero().flatten().tolist() == [2, 4, 6]
    assert unit8.current_choice == 3
    x = torch.randn(1, 3, 8, 8)
    assert model(x).shape == (1, 10)
    assert model.conv2.active_parameters()['weight'].shape[1] == 3


def test_one_shot_unit_uses_candidates():
    unit = OneShotMutableChannelUnit(10, candidate_choices=[1.0, 0.25, 0.5], divisor=1)
    assert unit.candidate_choices == [0.25, 0.5, 1.0]
    assert unit.candidate_numbers == [3, 5, 10]
    unit.current_choice = 0.25
    assert unit.current_choice == 0.25  # reported as the candidate, not 0.3
    assert unit.mutable_channel.activated_channels == 3
    assert (unit.min_choice, unit.max_choice) == (0.25, 1.0)
    assert unit.sample_choice() in unit.candidate_choices
    with pytest.raises(ValueError, match=r'choice 0.3 is not a candidate; '
                                         r'candidate_choices: \[0.25, 0.5, 1.0\]'):
        unit.current_choice = 0.3
    with pytest.raises(ValueError, match='needs candidate_choices'):
        OneShotMutableChannelUnit(10, candidate_choices=[])
    assert unit.config_template(with_init_args=True)['init_args']['candidate_choices'] == \
        [0.25, 0.5, 1.0]


def test_slimmable_unit_switches_batch_norms():
    model, (unit8, unit16) = prepared(SlimmableChannelUnit, candidate_choices=[4, 8])
    assert isinstance(model.bn1, SwitchableBatchNorm2d)
    assert sorted(model.bn1.candidate_bn) == ['4', '8']
    unit8.current_choice = 4
    x = torch.randn(2, 3, 8, 8)
    model.train()
    model(x)
    assert model.bn1.candidate_bn['4'].num_batches_tracked == 1
    assert model.bn1.candidate_bn['8'].num_batches_tracked == 0


def test_fixed_unit_refuses_changes():
    _, (unit8, _) = prepared()
    unit8.fix_chosen(4)
    assert unit8.is_fixed
    with pytest.raises(AttributeError, match='is fixed; its choice 4 cannot change'):
        unit8.current_choice = 8


def test_bad_channel_configs_raise_clear_errors():
    model = DepthwiseNet()
    bad_name = dict(UNIT_16, channels=dict(output_related=[ch('conv_2', 0, 16)]))
    with pytest.raises(KeyError, match="No module 'conv_2'.*closest: conv2"):
        SequentialMutableChannelUnit.init_from_cfg(model, bad_name)
    too_wide = SequentialMutableChannelUnit.init_from_cfg(model, dict(
        init_args=dict(num_channels=32), channels=dict(output_related=[ch('conv2', 0, 32)])))
    with pytest.raises(ValueError, match="'conv2' has 16 output channels, but the unit uses "
                                         r'\[0, 32\)'):
        too_wide.prepare_for_pruning(model)
    assert type(model.conv2) is nn.Conv2d  # untouched
    with pytest.raises(ValueError, match='has 8 channels; a unit of 16 channels needs 16'):
        SequentialMutableChannelUnit.init_from_cfg(model, dict(
            init_args=dict(num_channels=16), channels=dict(output_related=[ch('bn1', 0, 8)])))
    with pytest.raises(KeyError, match=r"unknown keys \['chioce'\]"):
        SequentialMutableChannelUnit.init_from_cfg(model, dict(UNIT_16, chioce=4))


def test_units_with_unknown_layers_are_not_mutable():
    class WeightStandardizedConv(nn.Conv2d):
        """A subclass computes differently: it must not become a DynamicConv2d."""

    model = DepthwiseNet()
    model.conv2 = WeightStandardizedConv(8, 16, 1)
    unit = SequentialMutableChannelUnit.init_from_cfg(model, UNIT_16)
    assert not unit.is_mutable
    assert unit.unprunable_reasons() == ['conv2 (WeightStandardizedConv)']
    with pytest.raises(TypeError, match="'conv2' is a WeightStandardizedConv, which has no "
                                        'dynamic op'):
        unit.prepare_for_pruning(model)
    assert type(model.bn3) is nn.BatchNorm2d  # nothing replaced


def test_units_from_a_predefined_model():
    model, units = prepared()
    units[0].current_choice = 4
    found = {u.name: u for u in SequentialMutableChannelUnit.init_from_predefined_model(model)}
    assert set(found) == {u.name for u in units}
    recovered = found['conv1_(0, 8)_8']
    assert recovered.mutable_channel is units[0].mutable_channel
    assert recovered.current_choice == 4
    fc = [c for c in found['conv2_(0, 16)_16'].input_related if c.name == 'fc'][0]
    assert fc.expand_ratio == 4 and fc.index == (0, 64)


def test_unit_from_a_plain_channel_unit():
    plain = SequentialMutableChannelUnit.init_from_cfg(DepthwiseNet(), UNIT_16)
    unit = OneShotMutableChannelUnit.init_from_channel_unit(
        plain, dict(candidate_choices=[4, 16], choice_mode='number'))
    assert unit.name == plain.name and unit.channels == plain.channels
    assert unit.current_choice == 16 and unit.min_choice == 4


class GroupNormNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.gn = nn.GroupNorm(4, 16)
        self.conv2 = nn.Conv2d(16, 5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(torch.relu(self.gn(self.conv1(x))))


@pytest.mark.parametrize('unit_cls', [SequentialMutableChannelUnit, L1MutableChannelUnit])
def test_units_round_widths_to_group_norm_groups(unit_cls):
    torch.manual_seed(0)
    model = GroupNormNet().eval()
    unit = unit_cls.init_from_cfg(model, dict(
        init_args=dict(num_channels=16),
        channels=dict(output_related=[ch('conv1', 0, 16), ch('gn', 0, 16)],
                      input_related=[ch('gn', 0, 16), ch('conv2', 0, 16)])))
    assert unit.channel_multiple == 4
    unit.prepare_for_pruning(model)
    unit.current_choice = 6
    assert unit.current_choice == 8
    unit.current_choice = 3
    assert unit.current_choice == 4
    assert all(unit.sample_choice() % 4 == 0 for _ in range(10))
    unit.current_choice = 9
    x = torch.randn(2, 3, 6, 6)
    out = model(x)
    unit.fix_chosen()
    for name in ('conv1', 'gn', 'conv2'):
        setattr(model, name, getattr(model, name).to_static_op())
    assert model.gn.num_groups == 2
    torch.testing.assert_close(model(x), out, atol=1e-5, rtol=0)

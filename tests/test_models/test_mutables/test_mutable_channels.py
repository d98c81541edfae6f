"""Mutable channels, derived mutables and the channel container."""
import pytest
import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import DynamicConv2d
from mmrazor.models.mutables import (
                                     DerivedMutable,
                                     DumpChosen,
                                     MutableChannelContainer,
                                     OneShotMutableChannel,
                                     SequentialMutableChannel,
                                     SimpleMutableChannel,
                                     SquentialMutableChannel,
)
from mmrazor.models.mutables.derived_mutable import make_divisible


def bools(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.bool)


def test_simple_mutable_channel_takes_a_mask():
    mutable = SimpleMutableChannel(4)
    assert mutable.mutable_prefix == 'channel'
    assert mutable.current_mask.all() and mutable.activated_channels == 4
    mutable.current_choice = bools(1, 0, 1, 0)
    assert mutable.activated_channels == 2
    assert torch.equal(mutable.current_choice, bools(1, 0, 1, 0))
    with pytest.raises(ValueError, match=r'bool tensor of shape \(4,\); got torch.int64'):
        mutable.current_choice = torch.tensor([1, 0, 1, 0])
    with pytest.raises(ValueError, match='at least one of the 4 channels'):
        mutable.current_choice = bools(0, 0, 0, 0)
    assert 'mask' not in mutable.state_dict()  # masks stay out of checkpoints


def test_sequential_mutable_channel_keeps_first_channels():
    assert SequentialMutableChannel is SquentialMutableChannel
    mutable = SquentialMutableChannel(8)
    mutable.current_choice = 3
    assert torch.equal(mutable.current_mask, bools(1, 1, 1, 0, 0, 0, 0, 0))
    assert mutable.current_choice == 3
    mutable.current_choice = 0.5  # a float is a ratio, whatever the mode
    assert mutable.current_choice == 4
    ratio = SquentialMutableChannel(8, choice_mode='ratio')
    ratio.current_choice = 2
    assert ratio.current_choice == 0.25 and ratio.choices[-1] == 1.0
    with pytest.raises(ValueError, match=r'in \[1, 8\] \(the channels there are\), got 9'):
        mutable.current_choice = 9
    with pytest.raises(ValueError, match=r'ratio choice must be in \(0, 1\], got 1.5'):
        mutable.current_choice = 1.5
    with pytest.raises(ValueError, match="choice_mode must be one of"):
        SquentialMutableChannel(8, choice_mode='percent')


def test_one_shot_mutable_channel_candidates():
    mutable = OneShotMutableChannel(8, candidate_choices=[6, 2, 4])
    assert mutable.choices == [2, 4, 6] and mutable.num_choices == 3
    assert (mutable.min_choice, mutable.max_choice) == (2, 6)
    assert mutable.sample_choice() in (2, 4, 6)
    mutable.current_choice = 4
    assert mutable.activated_channels == 4
    with pytest.raises(ValueError, match=r'choice 3 is not a candidate; candidate_choices: '
                                         r'\[2, 4, 6\]'):
        mutable.current_choice = 3


def test_fixing_is_irreversible():
    mutable = SquentialMutableChannel(8)
    mutable.fix_chosen(5)
    assert mutable.is_fixed and mutable.current_choice == 5
    assert mutable.dump_chosen() == DumpChosen(chosen=5, meta=dict(num_channels=8))
    assert mutable.export_chosen() == 5
    with pytest.raises(AttributeError, match='is fixed; its choice 5 cannot change'):
        mutable.current_choice = 3
    with pytest.raises(AttributeError, match='fixing cannot be undone'):
        mutable.is_fixed = False
    with pytest.raises(AttributeError, match='already fixed'):
        mutable.fix_chosen(5)
    assert mutable.current_choice == 5


def test_derived_mutables_follow_their_source():
    source = SquentialMutableChannel(4)
    expanded = source * 2
    assert isinstance(expanded, DerivedMutable)
    assert expanded.source_mutables == [source]  # found in the closures
    source.current_choice = 1
    assert torch.equal(expanded.current_mask, bools(1, 1, 0, 0, 0, 0, 0, 0))
    assert expanded.current_choice == 2
    masked = SimpleMutableChannel(3)
    masked.current_choice = bools(0, 1, 1)
    assert torch.equal(masked.derive_expand_mutable(2).current_mask, bools(0, 0, 1, 1, 1, 1))

    source.current_choice = 4
    divided = source // (2, 1)
    assert divided.current_choice == 2 and divided.current_mask.tolist() == [True, True]
    assert (SquentialMutableChannel(64) // 2).current_choice == 32  # divisor 8

    concat = SimpleMutableChannel.derive_concat_mutable([masked, source])
    assert torch.equal(concat.current_mask, bools(0, 1, 1, 1, 1, 1, 1))
    assert set(concat.source_mutables) == {masked, source}
    twice = expanded.derive_same_mutable()  # derived of derived: sources are the leaves
    assert twice.source_mutables == [source]
    with pytest.raises(AttributeError, match='comes from its sources'):
        expanded.current_choice = 2
    assert not expanded.is_fixed
    source.fix_chosen()
    assert expanded.is_fixed
    with pytest.raises(ValueError, match='found no source mutable'):
        DerivedMutable(lambda: 3)


def test_make_divisible_like_mmrazor():
    assert make_divisible(30, 8) == 32
    assert make_divisible(3, 8) == 8
    assert make_divisible(19, 8, min_ratio=0.9) == 24  # 16 would lose more than 10%
    assert make_divisible(5, 1, min_value=1) == 5


def test_container_joins_masks_and_leaves_gaps_kept():
    container = MutableChannelContainer(10)
    first, second = SimpleMutableChannel(3), SquentialMutableChannel(4)
    container.register_mutable(first, 0, 3)
    container.register_mutable(second, 5, 9)
    first.current_choice = bools(1, 0, 1)
    second.current_choice = 1
    assert container.current_mask.tolist() == [1, 0, 1, 1, 1, 1, 0, 0, 0, 1]
    container.register_mutable(first, 0, 3)  # the same registration again is harmless
    with pytest.raises(ValueError, match=r'\[2, 5\) overlap \[0, 3\)'):
        container.register_mutable(SimpleMutableChannel(3), 2, 5)
    with pytest.raises(ValueError, match=r'a mutable of 3 channels cannot fill the 1'):
        container.register_mutable(SimpleMutableChannel(3), 9, 10)
    with pytest.raises(ValueError, match=r'\[8, 12\) is not inside the 10 channels'):
        container.register_mutable(SimpleMutableChannel(4), 8, 12)
    assert not container.is_fixed
    container.fix_chosen()
    assert first.is_fixed and second.is_fixed and container.is_fixed


def test_register_mutable_channel_to_module():
    conv = DynamicConv2d.convert_from(nn.Conv2d(3, 6, 1))
    mutable = SquentialMutableChannel(6)
    with pytest.raises(ValueError, match='no MutableChannelContainer for its out_channels'):
        MutableChannelContainer.register_mutable_channel_to_module(conv, mutable)
    conv.register_mutable_attr('out_channels', MutableChannelContainer(6))
    MutableChannelContainer.register_mutable_channel_to_module(conv, mutable)
    mutable.current_choice = 2
    assert conv(torch.randn(1, 3, 4, 4)).shape[1] == 2
    with pytest.raises(TypeError, match='is not a dynamic channel op'):
        MutableChannelContainer.register_mutable_channel_to_module(nn.Conv2d(3, 6, 1),
                                                                   mutable)

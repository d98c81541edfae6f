"""Mutable values and the mutables derived from them."""
import random

import pytest
import torch

from mmrazor.models.mutables import (
    DerivedMutable,
    MutableValue,
    OneShotMutableChannel,
    OneShotMutableValue,
    SquentialMutableChannel,
)
from mmrazor.models.mutables.derived_mutable import make_divisible
from mmrazor.registry import MODELS


def test_mutable_value_choices_and_fixing():
    value = MutableValue([3, 5, 7], alias='kernel')
    assert value.choices == [3, 5, 7] and value.current_choice == 3
    assert value.mutable_prefix == 'value' and value.alias == 'kernel'
    assert MutableValue([3, 5, 7], default_value=5).current_choice == 5
    value.current_choice = 7
    assert value.dump_chosen().chosen == 7 and value.export_chosen() == 7
    value.fix_chosen(5)
    assert value.is_fixed and value.current_choice == 5
    with pytest.raises(AttributeError, match='fixed; its choice 5 cannot change'):
        value.current_choice = 3
    assert 'value_list=[3, 5, 7]' in repr(value)


def test_mutable_value_bad_input():
    with pytest.raises(ValueError, match=r'choice 4 is not one of its choices \[3, 5, 7\]'):
        MutableValue([3, 5, 7]).current_choice = 4
    with pytest.raises(ValueError, match='choice 9 is not one of its choices'):
        MutableValue([3, 5, 7], default_value=9)
    with pytest.raises(TypeError, match=r"mixes \['float', 'int'\]"):
        MutableValue([3, 5.0])
    with pytest.raises(ValueError, match='non-empty list'):
        MutableValue([])
    value = MutableValue([3, 5, 7])
    with pytest.raises(ValueError, match='choice 4 is not one of'):
        value.fix_chosen(4)
    assert not value.is_fixed


def test_one_shot_value_sorts_samples_and_starts_at_max():
    value = MODELS.build(dict(type='OneShotMutableValue', value_list=[6, 2, 4]))
    assert value.choices == [2, 4, 6] and value.current_choice == 6
    assert value.max_choice == 6 and value.min_choice == 2
    random.seed(0)
    first = [value.sample_choice() for _ in range(20)]
    random.seed(1)
    second = [value.sample_choice() for _ in range(20)]
    assert set(first) == {2, 4, 6} and first != second
    shapes = OneShotMutableValue([[224, 224], [192, 192]])
    assert shapes.current_choice == [224, 224] and shapes.min_choice == [192, 192]


def test_derived_values_follow_their_source():
    value = OneShotMutableValue([16, 24, 32])
    doubled, halved = value * 2, value // 2
    rounded, chained = value // (3, 4), (value * 3) // 2
    product = value * OneShotMutableValue([1, 2])
    assert isinstance(doubled, DerivedMutable)
    assert (doubled.current_choice, halved.current_choice) == (64, 16)
    assert rounded.current_choice == make_divisible(32 / 3, 4) == 12
    assert chained.current_choice == make_divisible(96 / 2, 8) == 48
    assert product.current_choice == 64
    value.current_choice = 24
    assert (doubled.current_choice, halved.current_choice, chained.current_choice) == \
        (48, make_divisible(12, 8), 40)
    assert (2 * value).current_choice == 48
    assert doubled.source_mutables == [value] and not doubled.is_fixed
    with pytest.raises(AttributeError, match='comes from its sources'):
        doubled.current_choice = 32
    value.fix_chosen()
    assert doubled.is_fixed


def test_channels_times_a_searchable_expand_ratio():
    """An inverted residual's hidden width: in_channels x expand ratio (BigNAS)."""
    channels = OneShotMutableChannel(8, candidate_choices=[4, 8])
    ratio = OneShotMutableValue([3, 6])
    for hidden in (channels * ratio, ratio * channels):
        channels.current_choice, ratio.current_choice = 8, 6
        assert hidden.current_mask.numel() == 48 and hidden.current_choice == 48
        channels.current_choice, ratio.current_choice = 4, 3
        mask = hidden.current_mask
        assert mask.numel() == 48 and hidden.current_choice == 12
        assert torch.equal(mask, torch.arange(48) < 12)
        assert set(hidden.source_mutables) == {channels, ratio}
    sequential = SquentialMutableChannel(4) * 2
    assert sequential.current_mask.numel() == 8

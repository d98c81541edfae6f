"""Mutators: they own a model's search or pruning space."""
from .base_mutator import BaseMutator
from .channel_mutator import ChannelMutator, OneShotChannelMutator, SlimmableChannelMutator

__all__ = ['BaseMutator', 'ChannelMutator', 'OneShotChannelMutator',
           'SlimmableChannelMutator']

"""Mutators: they own a model's search or pruning space."""
from .base_mutator import BaseMutator
from .channel_mutator import ChannelMutator, OneShotChannelMutator, SlimmableChannelMutator

__all__ = ['BaseMutator', 'ChannelMutator', 'OneShotChannelMutator',
           'SlimmableChannelMutator']

from .channel_mutator import DCFFChannelMutator, DMCPChannelMutator  # noqa: E402

__all__ += ['DCFFChannelMutator', 'DMCPChannelMutator']
from .channel_mutator import GroupFisherChannelMutator  # noqa: E402

__all__ += ['GroupFisherChannelMutator']

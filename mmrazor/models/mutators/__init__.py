"""Mutators: they own a model's search or pruning space."""
from .base_mutator import BaseMutator
from .channel_mutator import ChannelMutator, OneShotChannelMutator, SlimmableChannelMutator
from .nas_mutator import NasMutator

__all__ = ['BaseMutator', 'ChannelMutator', 'OneShotChannelMutator',
           'SlimmableChannelMutator', 'NasMutator']

from .channel_mutator import DCFFChannelMutator, DMCPChannelMutator  # noqa: E402

__all__ += ['DCFFChannelMutator', 'DMCPChannelMutator']
from .channel_mutator import GroupFisherChannelMutator  # noqa: E402

__all__ += ['GroupFisherChannelMutator']

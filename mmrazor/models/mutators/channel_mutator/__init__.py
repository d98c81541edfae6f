"""Channel mutators: pruning spaces of channel units."""
from .channel_mutator import ChannelMutator
from .one_shot_channel_mutator import OneShotChannelMutator
from .slimmable_channel_mutator import SlimmableChannelMutator

__all__ = ['ChannelMutator', 'OneShotChannelMutator', 'SlimmableChannelMutator']

"""Channel mutators: pruning spaces of channel units."""
from .channel_mutator import ChannelMutator
from .one_shot_channel_mutator import OneShotChannelMutator
from .slimmable_channel_mutator import SlimmableChannelMutator

__all__ = ['ChannelMutator', 'OneShotChannelMutator', 'SlimmableChannelMutator']

from .dcff_channel_mutator import DCFFChannelMutator  # noqa: E402
from .dmcp_channel_mutator import DMCPChannelMutator  # noqa: E402

__all__ += ['DCFFChannelMutator', 'DMCPChannelMutator']
from .group_fisher_mutator import GroupFisherChannelMutator  # noqa: E402

__all__ += ['GroupFisherChannelMutator']

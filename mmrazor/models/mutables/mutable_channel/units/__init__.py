"""Channel units: groups of layer channels that keep one width."""
from .channel_unit import Channel, ChannelUnit
from .l1_mutable_channel_unit import L1MutableChannelUnit
from .mutable_channel_unit import DYNAMIC_OPS, MutableChannelUnit, replace_with_dynamic_ops
from .one_shot_mutable_channel_unit import OneShotMutableChannelUnit
from .sequential_mutable_channel_unit import SequentialMutableChannelUnit
from .slimmable_channel_unit import SlimmableChannelUnit

__all__ = ['Channel', 'ChannelUnit', 'MutableChannelUnit', 'SequentialMutableChannelUnit',
           'L1MutableChannelUnit', 'OneShotMutableChannelUnit', 'SlimmableChannelUnit',
           'DYNAMIC_OPS', 'replace_with_dynamic_ops']

from .dcff_channel_unit import DCFFChannelUnit  # noqa: E402
from .dmcp_channel_unit import DMCPChannelUnit  # noqa: E402

__all__ += ['DCFFChannelUnit', 'DMCPChannelUnit']
from .group_fisher_unit import GroupFisherChannelUnit  # noqa: E402

__all__ += ['GroupFisherChannelUnit']
from .channel_unit import ParamChannel  # noqa: E402

__all__ += ['ParamChannel']

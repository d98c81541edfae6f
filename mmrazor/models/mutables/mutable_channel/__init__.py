"""Mutable channels (which channels of a layer are kept) and channel units."""
from .base_mutable_channel import BaseMutableChannel
from .mutable_channel_container import MutableChannelContainer
from .one_shot_mutable_channel import OneShotMutableChannel
from .sequential_mutable_channel import SequentialMutableChannel, SquentialMutableChannel
from .simple_mutable_channel import SimpleMutableChannel
from .units import *  # noqa: F401,F403
from .units import __all__ as _units_all

__all__ = ['BaseMutableChannel', 'SimpleMutableChannel', 'SquentialMutableChannel',
           'SequentialMutableChannel', 'OneShotMutableChannel',
           'MutableChannelContainer'] + list(_units_all)

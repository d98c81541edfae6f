"""Observers (registered in MODELS): torch's, by their torch names, and LSQ's."""
from .lsq import LSQObserver, LSQPerChannelObserver
from .torch_observers import TORCH_OBSERVERS, register_torch_classes, register_torch_observers

__all__ = [
    'LSQObserver', 'LSQPerChannelObserver', 'TORCH_OBSERVERS', 'register_torch_classes',
    'register_torch_observers'
]

"""Mutables: the choices of a model (channel widths, ops and values)."""
from .base_mutable import BaseMutable, DumpChosen
from .derived_mutable import DerivedMethodMixin, DerivedMutable
from .mutable_channel import *  # noqa: F401,F403
from .mutable_channel import __all__ as _mutable_channel_all
from .mutable_module import *  # noqa: F401,F403
from .mutable_module import __all__ as _mutable_module_all
from .mutable_value import MutableValue, OneShotMutableValue

__all__ = ['BaseMutable', 'DumpChosen', 'DerivedMutable', 'DerivedMethodMixin',
           'MutableValue', 'OneShotMutableValue'
           ] + list(_mutable_channel_all) + list(_mutable_module_all)

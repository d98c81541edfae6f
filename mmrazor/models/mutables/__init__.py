"""Mutables: the choices of a model (channel widths here; ops and values for NAS)."""
from .base_mutable import BaseMutable, DumpChosen
from .derived_mutable import DerivedMethodMixin, DerivedMutable
from .mutable_channel import *  # noqa: F401,F403
from .mutable_channel import __all__ as _mutable_channel_all

__all__ = ['BaseMutable', 'DumpChosen', 'DerivedMutable', 'DerivedMethodMixin'
           ] + list(_mutable_channel_all)

"""Dynamic ops: torch layers whose attributes (channels, ...) follow mutables and that
convert back to plain torch layers (``to_static_op``)."""
from .bricks import *  # noqa: F401,F403
from .bricks import __all__ as _bricks_all
from .mixins import DynamicChannelMixin, DynamicMixin

__all__ = ['DynamicMixin', 'DynamicChannelMixin'] + list(_bricks_all)

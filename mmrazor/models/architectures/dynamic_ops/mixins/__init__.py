"""The dynamic-op protocol."""
from .dynamic_mixins import DynamicChannelMixin, DynamicMixin

__all__ = ['DynamicMixin', 'DynamicChannelMixin']

"""Distillers: compute distillation losses from recorded student/teacher tensors."""
from .base_distiller import BaseDistiller
from .byot_distiller import BYOTDistiller
from .configurable_distiller import ConfigurableDistiller
from .ofd_distiller import OFDDistiller

__all__ = ['BaseDistiller', 'BYOTDistiller', 'ConfigurableDistiller', 'OFDDistiller']

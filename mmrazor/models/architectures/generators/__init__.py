"""Image generators of data-free distillation."""
from .base_generator import BaseGenerator
from .dafl_generator import DAFLGenerator
from .zskt_generator import ZSKTGenerator

__all__ = ['BaseGenerator', 'DAFLGenerator', 'ZSKTGenerator']

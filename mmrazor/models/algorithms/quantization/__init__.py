"""Quantization algorithms."""
from .mm_architecture import MMArchitectureQuant

__all__ = ['MMArchitectureQuant']

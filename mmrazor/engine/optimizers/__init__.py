"""Optimizer-wrapper constructors."""
from .separate_optim_constructor import SeparateOptimWrapperConstructor

__all__ = ['SeparateOptimWrapperConstructor']

"""Neural architecture search algorithms."""
from .spos import SPOS

__all__ = ['SPOS']

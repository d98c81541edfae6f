"""Candidate ops of searchable backbones (the choices of their mutable ops)."""
from .base import BaseOP
from .shufflenet_series import ShuffleBlock, ShuffleUnit, ShuffleXception

__all__ = ['BaseOP', 'ShuffleUnit', 'ShuffleBlock', 'ShuffleXception']

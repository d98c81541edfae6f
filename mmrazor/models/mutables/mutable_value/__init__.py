"""Mutable values: a searchable number (kernel size, expand ratio, depth)."""
from .mutable_value import MutableValue, OneShotMutableValue

__all__ = ['MutableValue', 'OneShotMutableValue']

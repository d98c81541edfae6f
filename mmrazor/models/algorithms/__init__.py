"""Algorithms: BaseModels that wrap an upstream model and compress it."""
from .base import BaseAlgorithm

__all__ = ['BaseAlgorithm']

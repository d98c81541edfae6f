"""Classifiers of searchable networks."""
from .image import SearchableImageClassifier

__all__ = ['SearchableImageClassifier']

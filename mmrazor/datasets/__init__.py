"""Data sets that ship offline, read through the upstream dataset classes."""
from .fashion_mnist import OfflineFashionMNIST

__all__ = ['OfflineFashionMNIST']

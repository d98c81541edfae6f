"""Data sets that ship offline, read through the upstream dataset classes, and
CRD's negative sampling."""
from .crd_dataset_wrapper import CRDDataset
from .fashion_mnist import OfflineFashionMNIST
from .transforms import PackCRDClsInputs

__all__ = ['OfflineFashionMNIST', 'CRDDataset', 'PackCRDClsInputs']

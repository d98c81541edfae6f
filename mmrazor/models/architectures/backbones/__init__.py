"""Backbones MMRazor ships itself (those mmpretrain/mmdet do not have)."""
from .searchable_shufflenet_v2 import SearchableShuffleNetV2
from .wideresnet import WideResNet

__all__ = ['SearchableShuffleNetV2', 'WideResNet']

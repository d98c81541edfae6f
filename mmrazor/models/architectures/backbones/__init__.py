"""Backbones MMRazor ships itself (those mmpretrain/mmdet do not have)."""
from .wideresnet import WideResNet

__all__ = ['WideResNet']

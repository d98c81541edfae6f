"""Backbones MMRazor ships itself (those mmpretrain/mmdet do not have)."""
from .searchable_shufflenet_v2 import SearchableShuffleNetV2
from .wideresnet import WideResNet

__all__ = ['SearchableShuffleNetV2', 'WideResNet']
from .darts_backbone import DartsBackbone  # noqa: E402

__all__ += ['DartsBackbone']
from .searchable_mobilenet_v3 import AttentiveMobileNetV3  # noqa: E402

__all__ += ['AttentiveMobileNetV3']
from .searchable_mobilenet_v2 import SearchableMobileNetV2  # noqa: E402

__all__ += ['SearchableMobileNetV2']
from .searchable_autoformer import AutoformerBackbone  # noqa: E402

__all__ += ['AutoformerBackbone']

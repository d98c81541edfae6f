"""Candidate ops of searchable backbones (the choices of their mutable ops)."""
from .base import BaseOP
from .shufflenet_series import ShuffleBlock, ShuffleUnit, ShuffleXception

__all__ = ['BaseOP', 'ShuffleUnit', 'ShuffleBlock', 'ShuffleXception']
from .input_resizer import InputResizer  # noqa: E402
from .mobilenet_series import MBBlock, SELayer, ShortcutLayer  # noqa: E402

__all__ += ['InputResizer', 'MBBlock', 'SELayer', 'ShortcutLayer']
from .darts_series import (  # noqa: E402
    DartsDilConv,
    DartsPoolBN,
    DartsSepConv,
    DartsSkipConnect,
    DartsZero,
)

__all__ += ['DartsPoolBN', 'DartsDilConv', 'DartsSepConv', 'DartsSkipConnect', 'DartsZero']
from .common import Identity  # noqa: E402

__all__ += ['Identity']
from .transformer_series import MultiheadAttention, RelativePosition2D  # noqa: E402

__all__ += ['MultiheadAttention', 'RelativePosition2D']
from .pruned_attention import PrunedMultiheadAttention  # noqa: E402

__all__ += ['PrunedMultiheadAttention']

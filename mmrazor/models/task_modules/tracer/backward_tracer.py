"""``BackwardTracer``: MMRazor 1.x's ``parse_cfg`` name, built as a ``ChannelAnalyzer``."""
from typing import Dict, Optional

from mmrazor.registry import TASK_UTILS

from .channel_analyzer import ChannelAnalyzer

DEFAULT_SHAPE = (1, 3, 224, 224)


@TASK_UTILS.register_module(name='BackwardTracer')
def backward_tracer(loss_calculator: Optional[Dict] = None) -> ChannelAnalyzer:
    """The channel analyzer MMRazor 1.x configs ask for as
    ``parse_cfg=dict(type='BackwardTracer', loss_calculator=dict(
    type='ImageClassifierPseudoLoss'))``.

    MMRazor's ``BackwardTracer`` found channel units by walking the autograd graph of
    a pseudo loss. Ours finds the same units with the one FX tracer of
    :class:`ChannelAnalyzer` (whose ``tracer_type='BackwardTracer'`` names it too), so
    this name builds that analyzer: the pseudo loss only chose the model's input,
    which the analyzer's demo input chooses by the model's type. The pseudo loss's
    ``input_shape`` (if given) becomes the demo input's shape.

    Args:
        loss_calculator (dict, optional): MMRazor's pseudo-loss config (a ``type``
            ending in ``'PseudoLoss'``, optionally ``input_shape``). Defaults to
            None: a ``(1, 3, 224, 224)`` input.

    Returns:
        ChannelAnalyzer: ``ChannelAnalyzer(demo_input=input_shape,
        tracer_type='BackwardTracer')``.
    """
    if loss_calculator is not None and (
            not isinstance(loss_calculator, dict)
            or not str(loss_calculator.get('type', '')).endswith('PseudoLoss')):
        raise TypeError('BackwardTracer: loss_calculator must be a pseudo-loss config '
                        "such as dict(type='ImageClassifierPseudoLoss'), got "
                        f'{loss_calculator!r}')
    cfg = dict(loss_calculator or {})
    unknown = sorted(set(cfg) - {'type', 'input_shape'})
    if unknown:
        raise KeyError(f'BackwardTracer: unknown loss_calculator keys {unknown}; valid: '
                       'type, input_shape')
    return ChannelAnalyzer(demo_input=tuple(cfg.get('input_shape', DEFAULT_SHAPE)),
                           tracer_type='BackwardTracer')

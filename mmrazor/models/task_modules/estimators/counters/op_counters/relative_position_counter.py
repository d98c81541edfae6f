"""Counter of AutoFormer's image relative position encoding (``RelativePosition2D``
and, through its class hierarchy, ``DynamicRelativePosition2D``)."""
from mmrazor.registry import TASK_UTILS

from .base_counter import BaseCounter, Cost, output_tensor


@TASK_UTILS.register_module()
class RelativePosition2DCounter(BaseCounter):
    """One FLOP per output element: the sum of the vertical and horizontal
    embeddings looked up for each token pair (matched by class name: the layer
    lives in mmrazor's architectures, which import the estimators)."""

    @classmethod
    def count_flops(cls, module, inputs, kwargs, output) -> Cost:
        return Cost(0, output_tensor(output).numel())

"""``MethodOutputsRecorder``: records what a class method returns."""
from mmrazor.registry import TASK_UTILS

from .function_outputs_recorder import FunctionOutputsRecorder


@TASK_UTILS.register_module()
class MethodOutputsRecorder(FunctionOutputsRecorder):
    """Records what a method returns, for every instance of the class.

    The method is patched on the class on ``__enter__`` and restored on
    ``__exit__``, also when the body raises. Calls through subclasses that override
    the method are not recorded.

    Args:
        source (str): The method's path, e.g.
            ``'mmrazor.models.algorithms.base.BaseAlgorithm.loss'``.
    """

    _on_class = True

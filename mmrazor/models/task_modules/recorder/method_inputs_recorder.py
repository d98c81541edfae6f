"""``MethodInputsRecorder``: records the arguments of a class method."""
from mmrazor.registry import TASK_UTILS

from .function_inputs_recorder import FunctionInputsRecorder


@TASK_UTILS.register_module()
class MethodInputsRecorder(FunctionInputsRecorder):
    """Records the arguments of each call of a method, for every instance.

    A record is the list of argument values in signature order, defaults filled in,
    without ``self``. Patching works as in :class:`MethodOutputsRecorder`.

    Args:
        source (str): The method's path, e.g.
            ``'mmrazor.models.algorithms.base.BaseAlgorithm.loss'``.
    """

    _on_class = True

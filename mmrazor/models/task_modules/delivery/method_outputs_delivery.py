"""``MethodOutputsDelivery``: delivers the outputs of a class method."""
from mmrazor.registry import TASK_UTILS

from .function_outputs_delivery import FunctionOutputsDelivery


@TASK_UTILS.register_module()
class MethodOutputsDelivery(FunctionOutputsDelivery):
    """Delivers the outputs of a method from teacher to student, for every instance.

    The method is patched on the class on ``__enter__`` and restored on
    ``__exit__``, also when the body raises.

    Args:
        method_path (str): The method's path, e.g.
            ``'my_pkg.augment.Mixup.__call__'``.
        max_keep_data (int): How many outputs the queue keeps. Defaults to 1.
    """

    _on_class = True

    def __init__(self, method_path: str, max_keep_data: int = 1) -> None:
        super().__init__(method_path, max_keep_data)

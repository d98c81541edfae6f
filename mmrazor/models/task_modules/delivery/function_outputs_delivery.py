"""``FunctionOutputsDelivery``: delivers the outputs of a module-level function."""
from mmrazor.registry import TASK_UTILS

from ..recorder.patch import AttributePatch
from .distill_delivery import DistillDelivery


@TASK_UTILS.register_module()
class FunctionOutputsDelivery(DistillDelivery):
    """Delivers the outputs of a module-level function from teacher to student.

    The function is patched in its module on ``__enter__`` and restored on
    ``__exit__``, also when the body raises.

    Note:
        Code that did ``from pkg.module import func`` holds the original function
        and is not affected: give the path where the caller looks it up.

    Args:
        func_path (str): The function's path, e.g. ``'my_pkg.augment.random_crop'``.
        max_keep_data (int): How many outputs the queue keeps. Defaults to 1.
    """

    _on_class = False

    def __init__(self, func_path: str, max_keep_data: int = 1) -> None:
        super().__init__(max_keep_data)
        self._patch = AttributePatch(func_path, on_class=self._on_class)

    def __enter__(self) -> 'FunctionOutputsDelivery':
        self._patch.apply(self.deliver_wrapper)
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self._patch.restore()

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self._patch.path}')"

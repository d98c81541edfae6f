"""``FunctionInputsRecorder``: records the arguments of a module-level function."""
from typing import Any, List

from mmrazor.registry import TASK_UTILS

from .function_outputs_recorder import FunctionOutputsRecorder


@TASK_UTILS.register_module()
class FunctionInputsRecorder(FunctionOutputsRecorder):
    """Records the arguments of each call of a module-level function.

    A record is the list of argument values in signature order, defaults filled in,
    so ``data_idx`` is the argument's position in the signature. Patching works as
    in :class:`FunctionOutputsRecorder` (same caveat about ``from x import f``).

    Args:
        source (str): The function's path, e.g. ``'torch.nn.functional.relu'``.
    """

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._bind = self._patch.argument_binder()

    def _to_record(self, args: tuple, kwargs: dict, outputs: Any) -> List[Any]:
        """What one call adds to the records: its argument values."""
        return self._bind(args, kwargs)

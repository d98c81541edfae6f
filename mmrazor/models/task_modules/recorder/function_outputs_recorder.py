"""``FunctionOutputsRecorder``: records what a module-level function returns."""
import functools
from typing import Any, Callable

from mmrazor.registry import TASK_UTILS

from .base_recorder import BaseRecorder
from .patch import AttributePatch


@TASK_UTILS.register_module()
class FunctionOutputsRecorder(BaseRecorder):
    """Records what a module-level function returns.

    The function is patched in its module on ``__enter__`` and restored on
    ``__exit__``, also when the body raises. The path is resolved when the recorder
    is built, so a bad path fails at once.

    Note:
        Only callers that look the function up through its module at call time are
        recorded. Code that did ``from pkg.module import func`` holds the original
        function, so give the path where the caller looks it up (the caller's own
        module in that case), as in MMRazor.

    Args:
        source (str): The function's path, e.g. ``'torch.nn.functional.relu'``.
    """

    _on_class = False

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._patch = AttributePatch(source, on_class=self._on_class)

    def _to_record(self, args: tuple, kwargs: dict, outputs: Any) -> Any:
        """What one call adds to the records: its outputs."""
        return outputs

    def _wrap(self, origin: Callable) -> Callable:

        @functools.wraps(origin)
        def recorded(*args, **kwargs):
            outputs = origin(*args, **kwargs)
            if self.recording:
                self.data_buffer.append(self._to_record(args, kwargs, outputs))
            return outputs

        return recorded

    def __enter__(self) -> 'FunctionOutputsRecorder':
        super().__enter__()
        try:
            self._patch.apply(self._wrap)
        except BaseException:
            super().__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        try:
            self._patch.restore()
        finally:
            super().__exit__(exc_type, exc_value, traceback)

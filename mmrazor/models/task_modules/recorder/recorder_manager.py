"""``RecorderManager``: builds, initializes and enters a group of recorders."""
import copy
from contextlib import ExitStack
from typing import Dict, Optional

import torch.nn as nn

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import NameLookupError

from .base_recorder import BaseRecorder


class RecorderManager:
    """A named group of recorders that is entered and exited as one.

    Args:
        recorders (dict, optional): Name to recorder config. A config's ``type``
            omits the ``Recorder`` suffix, which is appended before building from
            ``TASK_UTILS``: ``dict(type='ModuleOutputs', source='head.fc')`` builds a
            ``ModuleOutputsRecorder``. Defaults to None (no recorders).

    Example:
        >>> manager = RecorderManager(dict(
        ...     logits=dict(type='ModuleOutputs', source='head.fc')))
        >>> manager.initialize(model)
        >>> with manager:
        ...     model(inputs)
        >>> logits = manager.get_recorder('logits').get_record_data()
    """

    SUFFIX = 'Recorder'

    def __init__(self, recorders: Optional[Dict[str, dict]] = None) -> None:
        self._recorders = {name: self._build(cfg) for name, cfg in (recorders or {}).items()}
        self._exit_stack: Optional[ExitStack] = None

    def _build(self, cfg: dict) -> BaseRecorder:
        cfg = copy.deepcopy(dict(cfg))
        recorder_type = cfg.get('type')
        if isinstance(recorder_type, str) and not recorder_type.endswith(self.SUFFIX):
            cfg['type'] = recorder_type + self.SUFFIX
        return TASK_UTILS.build(cfg)

    @property
    def recorders(self) -> Dict[str, BaseRecorder]:
        """Dict[str, BaseRecorder]: The recorders by name."""
        return self._recorders

    def get_recorder(self, recorder: str) -> BaseRecorder:
        """Return the recorder named ``recorder``.

        Args:
            recorder (str): Its name in the ``recorders`` config.

        Returns:
            BaseRecorder: The recorder.
        """
        if recorder not in self._recorders:
            raise NameLookupError(f'No recorder named {recorder!r}; the recorders '
                                  f'are {sorted(self._recorders)}')
        return self._recorders[recorder]

    def initialize(self, model: nn.Module) -> None:
        """Initialize every recorder with ``model``.

        Args:
            model (nn.Module): The model to record from.
        """
        for recorder in self._recorders.values():
            recorder.initialize(model)

    def __enter__(self) -> 'RecorderManager':
        if self._exit_stack is not None:
            raise RuntimeError('This RecorderManager is already entered')
        with ExitStack() as stack:
            for recorder in self._recorders.values():
                stack.enter_context(recorder)
            self._exit_stack = stack.pop_all()
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        """Exit every recorder, in reverse order, even if one of them fails."""
        stack, self._exit_stack = self._exit_stack, None
        stack.__exit__(exc_type, exc_value, traceback)

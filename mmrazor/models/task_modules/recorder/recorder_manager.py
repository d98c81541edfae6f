"""``RecorderManager``: builds, initializes and enters a group of recorders."""
from typing import Dict, Optional

import torch.nn as nn

from .base_recorder import BaseRecorder
from .context_group import ContextGroup


class RecorderManager(ContextGroup[BaseRecorder]):
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
    KIND = 'recorder'

    def __init__(self, recorders: Optional[Dict[str, dict]] = None) -> None:
        super().__init__(recorders)

    @property
    def recorders(self) -> Dict[str, BaseRecorder]:
        """Dict[str, BaseRecorder]: The recorders by name."""
        return self._members

    def get_recorder(self, recorder: str) -> BaseRecorder:
        """Return the recorder named ``recorder``.

        Args:
            recorder (str): Its name in the ``recorders`` config.

        Returns:
            BaseRecorder: The recorder.
        """
        return self._get(recorder)

    def initialize(self, model: nn.Module) -> None:
        """Initialize every recorder with ``model``.

        Args:
            model (nn.Module): The model to record from.
        """
        for recorder in self._members.values():
            recorder.initialize(model)

"""``ModuleOutputsRecorder``: records the outputs of a submodule."""
from typing import Any, Optional

import torch.nn as nn
from torch.utils.hooks import RemovableHandle

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import get_module

from .base_recorder import BaseRecorder


@TASK_UTILS.register_module()
class ModuleOutputsRecorder(BaseRecorder):
    """Records what a submodule returns, through a forward hook.

    :meth:`initialize` registers the hook once; it records only inside
    ``with recorder:``.

    Args:
        source (str): The submodule's name in the model, e.g. ``'head.fc'``.

    Example:
        >>> recorder = TASK_UTILS.build(dict(type='ModuleOutputsRecorder',
        ...                                  source='head.fc'))
        >>> recorder.initialize(model)
        >>> with recorder:
        ...     model(inputs)
        >>> logits = recorder.get_record_data()
    """

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._handle: Optional[RemovableHandle] = None

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Find the submodule and register the hook (moved if called again).

        Args:
            model (nn.Module, optional): The model holding the source module; required.
                Defaults to None.
        """
        if model is None:
            raise ValueError(f'{self!r} needs the model to find its source module')
        module = get_module(model, self.source)
        if self._handle is not None:
            self._handle.remove()
        self._handle = module.register_forward_hook(self.forward_hook)

    def forward_hook(self, module: nn.Module, inputs: tuple, outputs: Any) -> None:
        """Record ``outputs`` while recording.

        Args:
            module (nn.Module): The source module.
            inputs (tuple): Its positional inputs.
            outputs (Any): What it returned.
        """
        if self.recording:
            self.data_buffer.append(outputs)

    def __enter__(self) -> 'ModuleOutputsRecorder':
        if self._handle is None:
            raise RuntimeError(f'{self!r} has no model: call initialize(model) first')
        return super().__enter__()

"""``ModuleInputsRecorder``: records the inputs of a submodule."""
from typing import Any

import torch.nn as nn

from mmrazor.registry import TASK_UTILS

from .module_outputs_recorder import ModuleOutputsRecorder


@TASK_UTILS.register_module()
class ModuleInputsRecorder(ModuleOutputsRecorder):
    """Records the positional inputs of a submodule (a tuple per call).

    Use ``get_record_data(record_idx, data_idx=0)`` for the first input.

    Args:
        source (str): The submodule's name in the model, e.g. ``'head.fc'``.
    """

    def forward_hook(self, module: nn.Module, inputs: tuple, outputs: Any) -> None:
        """Record ``inputs`` while recording.

        Args:
            module (nn.Module): The source module.
            inputs (tuple): Its positional inputs.
            outputs (Any): What it returned.
        """
        if self.recording:
            self.data_buffer.append(inputs)

"""``ParameterRecorder``: records a parameter of the model."""
from typing import Optional

import torch.nn as nn

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import get_parameter

from .base_recorder import BaseRecorder


@TASK_UTILS.register_module()
class ParameterRecorder(BaseRecorder):
    """Records a parameter: its only record is the parameter tensor itself.

    The record is there from :meth:`initialize` on, in and out of the context, and
    shows the parameter's current values.

    Args:
        source (str): The parameter's name in the model, e.g. ``'head.fc.weight'``.
    """

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._param: Optional[nn.Parameter] = None

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Find the parameter.

        Args:
            model (nn.Module, optional): The model holding it; required. Defaults to
                None.
        """
        if model is None:
            raise ValueError(f'{self!r} needs the model to find its source parameter')
        self._param = get_parameter(model, self.source)

    def reset_data_buffer(self) -> None:
        """Keep only the parameter as the record (none before :meth:`initialize`)."""
        super().reset_data_buffer()
        if self._param is not None:
            self.data_buffer.append(self._param)

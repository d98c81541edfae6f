"""``FpnTeacherDistill``: detection KD where the teacher runs only backbone + neck."""
from typing import List, Optional

import torch
from mmengine.structures import BaseDataElement

from mmrazor.models.algorithms.base import LossResults
from mmrazor.registry import MODELS

from .single_teacher_distill import SingleTeacherDistill


@MODELS.register_module()
class FpnTeacherDistill(SingleTeacherDistill):
    """:class:`SingleTeacherDistill` for feature (FPN) distillation of detectors.

    The teacher only runs ``extract_feat`` (backbone + neck): its head and losses are
    never computed, which saves most of a detector teacher's cost. Arguments are those
    of :class:`SingleTeacherDistill`. With ``teacher_trainable=True`` the teacher's
    backbone and neck run with gradients and learn from the distillation losses that
    do not detach the teacher (e.g. ``L1Loss``); it has no task losses of its own.
    """

    def teacher_forward(self, inputs: torch.Tensor,
                        data_samples: Optional[List[BaseDataElement]]) -> LossResults:
        """Backbone + neck of the teacher; no teacher losses."""
        if not hasattr(self.teacher, 'extract_feat'):
            raise AttributeError(f'FpnTeacherDistill needs a teacher with extract_feat() '
                                 f'(a detector), got {type(self.teacher).__name__}')
        self.teacher.extract_feat(inputs)
        return {}

"""``SelfDistill``: the deeper layers of a network teach its shallower ones (BYOT)."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.models.algorithms.base import BaseAlgorithm, LossResults
from mmrazor.registry import MODELS

from .single_teacher_distill import add_prefix


@MODELS.register_module()
class SelfDistill(BaseAlgorithm):
    """Self-distillation: one forward, records of the same model on both sides.

    Teacher recorders and student recorders both watch the architecture; the distiller
    (usually ``BYOTDistiller``, which detaches the teacher side) maps them to losses.
    Its ``distill_deliveries`` have nothing to do (there is no second run to deliver
    to) and are accepted, as MMRazor 1.x configs may carry them.

    Args:
        distiller (dict): Config of the distiller.
        student_trainable (bool): Compute gradients for the architecture.
            Defaults to True.
        calculate_student_loss (bool): Add the model's own task losses. Defaults to True.
        **kwargs: :class:`BaseAlgorithm` arguments.
    """

    def __init__(self,
                 distiller: Dict,
                 student_trainable: bool = True,
                 calculate_student_loss: bool = True,
                 architecture: Union[BaseModel, Dict] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 module_inplace: bool = False) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg, module_inplace)
        self.distiller = MODELS.build(distiller) if isinstance(distiller, dict) else distiller
        self.student_trainable = student_trainable
        self.calculate_student_loss = calculate_student_loss
        self.distiller.prepare_from_teacher(self.student)
        self.distiller.prepare_from_student(self.student)

    @property
    def student(self) -> nn.Module:
        """The student (and its own teacher) is the architecture."""
        return self.architecture

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> LossResults:
        """One forward with both recorder sets on, then the distillation losses.

        The distiller's deliveries are not entered: they hand a call's output from a
        teacher run to a student run, and here one run is both, so every call already
        gives the teacher records and the student records the same output.
        """
        losses = {}
        with self.distiller.teacher_recorders, self.distiller.student_recorders, \
                torch.set_grad_enabled(self.student_trainable and torch.is_grad_enabled()):
            student_losses = self.student(inputs, data_samples, mode='loss')
        if self.calculate_student_loss:
            losses.update(add_prefix(student_losses, 'student'))
        losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses

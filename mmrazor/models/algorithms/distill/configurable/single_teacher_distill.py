"""``SingleTeacherDistill``: train a student against one (usually frozen) teacher."""
import os.path as osp
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch.nn.modules.batchnorm import _BatchNorm

from mmrazor.models.algorithms.base import BaseAlgorithm, LossResults, disable_inplace
from mmrazor.registry import MODELS
from mmrazor.utils.weights import TEACHER_OVERRIDE, is_url, load_weights


def add_prefix(losses: Dict[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """``{'loss': x}`` -> ``{'prefix.loss': x}``."""
    return {f'{prefix}.{name}': value for name, value in losses.items()}


def load_teacher_checkpoint(teacher: nn.Module, path: str,
                            override: str = TEACHER_OVERRIDE) -> None:
    """Load ``path`` into ``teacher``; any missing or unexpected key is an error.

    A teacher whose weights silently fail to load teaches noise, so unlike
    MMEngine's non-strict ``load_checkpoint`` this reports every mismatch.

    Args:
        teacher (nn.Module): The teacher.
        path (str): A local file, or a URL resolved offline by
            :func:`mmrazor.utils.weights.load_weights` (weights only).
        override (str): How to point the config at a local file, for the message
            of a URL that is not cached. Defaults to ``TEACHER_OVERRIDE``.
    """
    if not is_url(path) and not osp.isfile(path):
        raise FileNotFoundError(f'teacher_ckpt {path!r} does not exist')
    checkpoint = load_weights(path, map_location='cpu', override=override)
    state_dict = checkpoint.get('state_dict', checkpoint)
    result = teacher.load_state_dict(state_dict, strict=False)
    if result.missing_keys or result.unexpected_keys:
        hint = ''
        if any(k.startswith('architecture.') for k in result.unexpected_keys):
            hint = (' The checkpoint looks like an mmrazor algorithm checkpoint: '
                    'extract the model with tools/model_converters/'
                    'convert_kd_ckpt_to_student.py first.')
        raise KeyError(
            f'teacher_ckpt {path!r} does not match the teacher '
            f'({type(teacher).__name__}): {len(result.missing_keys)} missing key(s) '
            f'{result.missing_keys[:8]}, {len(result.unexpected_keys)} unexpected '
            f'key(s) {result.unexpected_keys[:8]}.{hint}')


def build_teacher(teacher: Union[Dict, nn.Module], ckpt: Optional[str] = None,
                  module_inplace: bool = False, trainable: bool = False,
                  what: str = 'teacher', override: str = TEACHER_OVERRIDE) -> nn.Module:
    """Build a teacher the one way all KD algorithms do.

    Args:
        teacher (dict | nn.Module): A model config or the model.
        ckpt (str, optional): Weights to load strictly (a file or a URL resolved
            offline). Defaults to None.
        module_inplace (bool): Keep its in-place ops; off by default because recorders
            must see outputs that later in-place ops would change. Defaults to False.
        trainable (bool): Keep its parameters trainable. Defaults to False.
        what (str): How the config names it, for error messages. Defaults to 'teacher'.
        override (str): How to point the config at a local file, for the message of a
            URL that is not cached. Defaults to ``TEACHER_OVERRIDE``.
    """
    if isinstance(teacher, dict):
        teacher = MODELS.build(teacher)
    if not isinstance(teacher, nn.Module):
        raise TypeError(f'{what} should be a config dict or an nn.Module, but got '
                        f'{type(teacher)}')
    if not module_inplace:
        disable_inplace(teacher)
    if ckpt:
        load_teacher_checkpoint(teacher, ckpt, override=override)
        # the loaded weights must survive the Runner's init_weights()
        teacher._is_init = True
    if not trainable:
        teacher.requires_grad_(False)
    return teacher


@MODELS.register_module()
class SingleTeacherDistill(BaseAlgorithm):
    """Knowledge distillation from one teacher, driven by a distiller config.

    Each training step runs the teacher (under ``no_grad`` unless it is trainable)
    with the teacher recorders on, then the student with the student recorders on,
    then the distiller's losses. Losses are prefixed ``teacher.``, ``student.`` and
    ``distill.``.

    Args:
        distiller (dict): Config of the distiller, e.g. ``ConfigurableDistiller``.
        teacher (dict | BaseModel): The teacher: a config (``cfg_path`` allowed) or a
            built model.
        teacher_ckpt (str, optional): Checkpoint of the teacher: a local file or a URL
            (``https://``, ``torchvision://``, ...) found in the ``torch.hub`` cache;
            nothing is downloaded. Loaded as weights only; missing or unexpected keys
            are an error. Defaults to None.
        teacher_trainable (bool): Train the teacher too (and add its losses).
            Defaults to False.
        teacher_norm_eval (bool): Keep the teacher's BatchNorm layers in eval mode
            during training. Defaults to True.
        student_trainable (bool): Defaults to True.
        calculate_student_loss (bool): Add the student's own task losses.
            Defaults to True.
        teacher_module_inplace (bool): Keep in-place ops in the teacher.
            Defaults to False.
        **kwargs: :class:`BaseAlgorithm` arguments (``architecture`` is the student).
    """

    def __init__(self,
                 distiller: Dict,
                 teacher: Union[BaseModel, Dict],
                 teacher_ckpt: Optional[str] = None,
                 teacher_trainable: bool = False,
                 teacher_norm_eval: bool = True,
                 student_trainable: bool = True,
                 calculate_student_loss: bool = True,
                 teacher_module_inplace: bool = False,
                 architecture: Union[BaseModel, Dict] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 module_inplace: bool = False) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg, module_inplace)
        self.distiller = MODELS.build(distiller) if isinstance(distiller, dict) else distiller
        self.teacher = build_teacher(teacher, teacher_ckpt, teacher_module_inplace,
                                     teacher_trainable)
        self.teacher_trainable = teacher_trainable
        self.teacher_norm_eval = teacher_norm_eval
        self.student_trainable = student_trainable
        self.calculate_student_loss = calculate_student_loss
        self.distiller.prepare_from_student(self.student)
        self.distiller.prepare_from_teacher(self.teacher)
        # a buffer, so that StopDistillHook's decision is saved and resumed
        self.register_buffer('distillation_stopped', torch.tensor([False]))
        self.train(self.training)  # the teacher's norms follow the rule from the start

    @property
    def student(self) -> nn.Module:
        """The student is the architecture."""
        return self.architecture

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> LossResults:
        """Teacher forward, student forward, then the distillation losses."""
        losses = {}
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            with torch.set_grad_enabled(self.teacher_trainable and torch.is_grad_enabled()):
                teacher_losses = self.teacher_forward(inputs, data_samples)
        if self.teacher_trainable:
            losses.update(add_prefix(teacher_losses, 'teacher'))
        # the student replays what the deliveries recorded in the teacher's run
        self.distiller.set_deliveries_override(True)
        with self.distiller.student_recorders, self.distiller.deliveries:
            if self.student_trainable:
                student_losses = self.student(inputs, data_samples, mode='loss')
            else:
                with torch.no_grad():
                    student_losses = self.student(inputs, data_samples, mode='loss')
        if self.calculate_student_loss:
            losses.update(add_prefix(student_losses, 'student'))
        if not self.distillation_stopped:
            losses.update(add_prefix(self.distiller.compute_distill_losses(), 'distill'))
        return losses

    def teacher_forward(self, inputs: torch.Tensor,
                        data_samples: Optional[List[BaseDataElement]]) -> LossResults:
        """Run the teacher (its recorders are on); return its losses."""
        return self.teacher(inputs, data_samples, mode='loss')

    def train(self, mode: bool = True) -> 'SingleTeacherDistill':
        """Set train mode; the teacher's norm layers stay in eval if asked."""
        super().train(mode)
        if mode and self.teacher_norm_eval:
            for module in self.teacher.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

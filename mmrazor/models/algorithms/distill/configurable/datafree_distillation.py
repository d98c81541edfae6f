"""Data-free distillation: a generator synthesizes the training images.

``DataFreeDistillation`` trains the generator adversarially, to make student and
teachers disagree, as in DFAD (Fang et al., "Data-Free Adversarial Distillation",
2019) and ZSKT (Micaelli and Storkey, "Zero-shot Knowledge Transfer via Adversarial
Belief Matching", NeurIPS 2019). ``DAFLDataFreeDistillation`` trains it with the
teacher-only losses of DAFL (Chen et al., "Data-Free Learning of Student Networks",
ICCV 2019). Real images are never used: a batch only sets the batch size.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.registry import MODELS

from .single_teacher_distill import add_prefix, build_teacher

TEACHER_KEYS = ('build_cfg', 'ckpt_path', 'trainable')
OPTIM_KEYS = ('architecture', 'generator')


def build_teachers(teachers: Dict[str, Dict], module_inplace: bool) -> nn.ModuleDict:
    """Build the frozen teachers from ``name -> dict(build_cfg, ckpt_path, trainable)``.

    Args:
        teachers (dict): Teacher name -> config, see :class:`DataFreeDistillation`.
        module_inplace (bool): Keep the teachers' in-place ops.

    Returns:
        nn.ModuleDict: The teachers, without gradients.
    """
    if not isinstance(teachers, dict) or not teachers:
        raise TypeError('teachers must be a non-empty dict of name -> dict(build_cfg='
                        f'..., ckpt_path=None, trainable=False), got {teachers!r}')
    built = nn.ModuleDict()
    for name, cfg in teachers.items():
        unknown = [key for key in cfg if key not in TEACHER_KEYS]
        if unknown or 'build_cfg' not in cfg:
            raise KeyError(f'teachers[{name!r}] needs "build_cfg" and may have '
                           f'{list(TEACHER_KEYS)}; got keys {list(cfg)}')
        if cfg.get('trainable', False):
            raise ValueError(f'teachers[{name!r}]: data-free distillation keeps its '
                             'teachers frozen; trainable must be False')
        built[name] = build_teacher(
            cfg['build_cfg'], cfg.get('ckpt_path'), module_inplace,
            what=f'teachers[{name!r}]["build_cfg"]',
            override=f'--cfg-options model.teachers.{name}.ckpt_path=/local/path.pth')
    return built


@contextmanager
def no_param_grad(module: nn.Module) -> Iterator[None]:
    """Turn off ``requires_grad`` of ``module``'s parameters; gradients still flow
    through it to its inputs."""
    params = [param for param in module.parameters() if param.requires_grad]
    for param in params:
        param.requires_grad_(False)
    try:
        yield
    finally:
        for param in params:
            param.requires_grad_(True)


@MODELS.register_module()
class DataFreeDistillation(BaseAlgorithm):
    """Data-free distillation with an adversarial generator (DFAD, ZSKT).

    Each training step trains the generator on ``generator_distiller``'s losses
    (usually a negative-weight L1 between student and teacher logits, so it seeks
    images where they disagree; the student's parameters get no gradient), then the
    student ``student_iter`` times on ``distiller``'s losses over fresh, detached
    generated batches (or the other way round). The optim wrapper must be an
    ``OptimWrapperDict`` with ``'architecture'`` and ``'generator'``, e.g. built by
    ``SeparateOptimWrapperConstructor``. Log variables are prefixed ``generator.``
    and ``distill.``. ``loss``, ``tensor`` and ``predict`` run the student.

    Args:
        distiller (dict): Config of the distiller that trains the student.
        generator_distiller (dict): Config of the distiller that trains the
            generator.
        teachers (dict): Teacher name -> ``dict(build_cfg=..., ckpt_path=None,
            trainable=False)``: a model config (``cfg_path`` allowed) or module, an
            optional local checkpoint, and ``trainable``, which must be False. They
            are held in ``self.teachers``, so recorder sources read
            ``'<name>.head.fc'``.
        generator (dict | nn.Module): The generator, e.g. ``DAFLGenerator``.
        student_iter (int): Student updates per training step. Defaults to 1.
        student_train_first (bool): Update the student before the generator.
            Defaults to False.
        architecture (dict | BaseModel): The student.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            student's.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
        module_inplace (bool): Keep in-place ops in student and teachers.
            Defaults to False.
    """

    def __init__(self,
                 distiller: Dict,
                 generator_distiller: Dict,
                 teachers: Dict[str, Dict],
                 generator: Union[Dict, nn.Module],
                 student_iter: int = 1,
                 student_train_first: bool = False,
                 architecture: Union[BaseModel, Dict] = None,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 module_inplace: bool = False) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg, module_inplace)
        if student_iter < 1:
            raise ValueError(f'student_iter must be at least 1, got {student_iter}')
        self.student_iter = student_iter
        self.student_train_first = student_train_first
        self.distiller = MODELS.build(distiller) if isinstance(distiller, dict) else distiller
        self.generator_distiller = (MODELS.build(generator_distiller) if isinstance(
            generator_distiller, dict) else generator_distiller)
        self.teachers = build_teachers(teachers, module_inplace)
        self.generator = MODELS.build(generator) if isinstance(generator, dict) else generator
        for each in (self.distiller, self.generator_distiller):
            each.prepare_from_teacher(self.teachers)
            each.prepare_from_student(self.student)

    @property
    def student(self) -> nn.Module:
        """The student is the architecture."""
        return self.architecture

    def train(self, mode: bool = True) -> 'DataFreeDistillation':
        """Set train mode; the teachers always stay in eval mode."""
        super().train(mode)
        self.teachers.eval()
        return self

    def train_step(self, data: Dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """Train the generator and the student on generated images.

        Args:
            data (dict): A batch from the dataloader; only the length of
                ``data['inputs']`` (the batch size) is used.
            optim_wrapper (OptimWrapperDict): Wrappers ``'architecture'`` and
                ``'generator'``.

        Returns:
            dict: The log variables.
        """
        check_optim_wrapper(optim_wrapper)
        self.teachers.eval()
        phases = [self.train_generator, self.train_student]
        if self.student_train_first:
            phases.reverse()
        log_vars = {}
        for phase in phases:
            log_vars.update(phase(data, optim_wrapper))
        return log_vars

    def train_generator(self, data: Dict,
                        optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """One generator update on ``generator_distiller``'s losses.

        Args:
            data (dict): A batch; only its size is used.
            optim_wrapper (OptimWrapperDict): Uses ``'generator'``.

        Returns:
            dict: The log variables, prefixed ``generator.``.
        """
        return self.update_generator(len(data['inputs']), optim_wrapper['generator'])[1]

    def update_generator(self, batch_size: int, optimizer: OptimWrapper
                         ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Generate a batch and update the generator on its ``generator_distiller``
        losses; the student runs only if that distiller records it (DAFL's losses
        need the teachers alone).

        Args:
            batch_size (int): The number of images to generate.
            optimizer (OptimWrapper): The generator's optim wrapper.

        Returns:
            tuple: The generated images (detached) and the log variables, prefixed
            ``generator.``.
        """
        with optimizer.optim_context(self.generator), no_param_grad(self.student):
            images = self.generator(batch_size=batch_size)
            with self.generator_distiller.teacher_recorders:
                self.teachers_forward(images)
            if self.generator_distiller.student_recorders.recorders:
                with self.generator_distiller.student_recorders:
                    self.student(images, None, mode='tensor')
            losses = self.generator_distiller.compute_distill_losses()
            loss, log_vars = self.parse_losses(losses)
            optimizer.update_params(loss)
        return images.detach(), add_prefix(detach_log_vars(log_vars), 'generator')

    def train_student(self, data: Dict,
                      optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """``student_iter`` student updates, each on a fresh generated batch.

        Args:
            data (dict): A batch; only its size is used.
            optim_wrapper (OptimWrapperDict): Uses ``'architecture'``.

        Returns:
            dict: The log variables of the last update, prefixed ``distill.``.
        """
        log_vars = {}
        for _ in range(self.student_iter):
            with torch.no_grad():
                images = self.generator(batch_size=len(data['inputs']))
            log_vars = self.distill_student(images, optim_wrapper['architecture'])
        return log_vars

    def distill_student(self, images: torch.Tensor,
                        optimizer: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One student update on ``distiller``'s losses over ``images``.

        Args:
            images (torch.Tensor): Generated images, without gradient.
            optimizer (OptimWrapper): The student's optim wrapper.

        Returns:
            dict: The log variables, prefixed ``distill.``.
        """
        images = images.detach()
        with optimizer.optim_context(self.student):
            with self.distiller.teacher_recorders, torch.no_grad():
                self.teachers_forward(images)
            with self.distiller.student_recorders:
                self.student(images, None, mode='tensor')
            loss, log_vars = self.parse_losses(self.distiller.compute_distill_losses())
            optimizer.update_params(loss)
        return add_prefix(detach_log_vars(log_vars), 'distill')

    def teachers_forward(self, images: torch.Tensor) -> None:
        """Run every teacher on ``images`` (their recorders keep what they need)."""
        for teacher in self.teachers.values():
            teacher(images, None, mode='tensor')


@MODELS.register_module()
class DAFLDataFreeDistillation(DataFreeDistillation):
    """Data-free distillation of DAFL (Chen et al., ICCV 2019).

    By default each training step generates one batch, updates the generator on
    ``generator_distiller``'s losses of the teachers' outputs (one-hot-like,
    information entropy and activation losses; the student is not run), then
    distills the student ``student_iter`` times on that batch, detached, with
    ``distiller`` (usually KL divergence to the teachers' logits). With
    ``student_train_first=True`` the student is distilled first, on batches of the
    generator before this step's update, then the generator is updated on a batch
    of its own, as in :class:`DataFreeDistillation`. Arguments as
    :class:`DataFreeDistillation`.
    """

    def train_step(self, data: Dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        """Train the generator, then the student on the same generated batch (or,
        with ``student_train_first``, the student, then the generator).

        Args:
            data (dict): A batch from the dataloader; only the length of
                ``data['inputs']`` (the batch size) is used.
            optim_wrapper (OptimWrapperDict): Wrappers ``'architecture'`` and
                ``'generator'``.

        Returns:
            dict: The log variables, prefixed ``generator.`` and ``distill.``.
        """
        if self.student_train_first:
            return super().train_step(data, optim_wrapper)
        check_optim_wrapper(optim_wrapper)
        self.teachers.eval()
        images, log_vars = self.update_generator(len(data['inputs']),
                                                 optim_wrapper['generator'])
        for _ in range(self.student_iter):
            log_vars.update(self.distill_student(images, optim_wrapper['architecture']))
        return log_vars


def check_optim_wrapper(optim_wrapper: OptimWrapperDict) -> None:
    """Fail clearly unless ``optim_wrapper`` holds ``'architecture'`` and
    ``'generator'``."""
    keys = list(optim_wrapper.keys()) if isinstance(optim_wrapper, OptimWrapperDict) else None
    missing = [key for key in OPTIM_KEYS if keys is None or key not in keys]
    if missing:
        raise KeyError(
            f'Data-free distillation needs an OptimWrapperDict with {list(OPTIM_KEYS)}, '
            f'but {missing} is missing (got {type(optim_wrapper).__name__} with keys '
            f'{keys}). Set optim_wrapper=dict(constructor='
            "'mmrazor.SeparateOptimWrapperConstructor', architecture=dict(optimizer="
            '...), generator=dict(optimizer=...)).')


def detach_log_vars(log_vars: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Log variables without their autograd graphs."""
    return {name: value.detach() for name, value in log_vars.items()}

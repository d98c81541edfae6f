"""Validation loops that also evaluate the teacher of a distillation algorithm."""
from typing import Dict, List, Sequence, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop, autocast
from torch.utils.data import DataLoader

from mmrazor.registry import LOOPS


def evaluate_model(loop: ValLoop) -> dict:
    """Start validation (hooks, eval mode) and return the metrics of the model."""
    loop.runner.call_hook('before_val')
    loop.runner.call_hook('before_val_epoch')
    loop.runner.model.eval()
    for idx, data_batch in enumerate(loop.dataloader):
        loop.run_iter(idx, data_batch)
    return loop.evaluator.evaluate(len(loop.dataloader.dataset))


@LOOPS.register_module()
class SingleTeacherDistillValLoop(ValLoop):
    """Evaluate the student (the model), then the teacher on the same data.

    The teacher's metrics are reported with a ``teacher.`` prefix, so a log line shows
    how far the student is from its teacher.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader (or its config).
        evaluator (Evaluator | dict | list): The evaluator (or its config).
        fp16 (bool): Validate with autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'teacher'):
            raise AttributeError(f'{type(self).__name__} needs a model with a "teacher" '
                                 f'(a distillation algorithm), got {type(model).__name__}')
        self.algorithm = model

    def run(self) -> dict:
        """Student metrics plus ``teacher.``-prefixed teacher metrics."""
        metrics = evaluate_model(self)
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter_teacher(idx, data_batch)
        teacher_metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        metrics.update({f'teacher.{k}': v for k, v in teacher_metrics.items()})
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @torch.no_grad()
    def run_iter_teacher(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Predict with the teacher on the algorithm's preprocessed batch."""
        self.runner.call_hook('before_val_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            data = self.algorithm.data_preprocessor(data_batch, False)
            outputs = self.algorithm.teacher(**data, mode='predict')
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook('after_val_iter', batch_idx=idx, data_batch=data_batch,
                              outputs=outputs)


@LOOPS.register_module()
class SelfDistillValLoop(ValLoop):
    """Validation for self-distillation: the model is its own teacher, so only the
    student is evaluated; its metrics are reported with a ``student.`` prefix.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader (or its config).
        evaluator (Evaluator | dict | list): The evaluator (or its config).
        fp16 (bool): Validate with autocast. Defaults to False.
    """

    def run(self) -> dict:
        """``student.``-prefixed metrics of the model."""
        metrics = {f'student.{k}': v for k, v in evaluate_model(self).items()}
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

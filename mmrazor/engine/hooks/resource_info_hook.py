"""``ResourceInfoHook``: follow a pruned model's FLOPs, checkpoint it at thresholds."""
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmrazor.models.algorithms.base import architecture_of
from mmrazor.models.task_modules.demo_inputs import BaseDemoInput
from mmrazor.registry import HOOKS, TASK_UTILS

RESOURCE_TYPES = ('flops', 'params')


def _input_shape(demo_input: Union[Dict, BaseDemoInput, Sequence[int]]) -> tuple:
    if isinstance(demo_input, dict):
        demo_input = TASK_UTILS.build(demo_input)
    shape = getattr(demo_input, 'input_shape', demo_input)
    if not isinstance(shape, (tuple, list)) or not all(isinstance(s, int) for s in shape):
        raise TypeError('demo_input must be a demo input (config dict or instance with '
                        'an input_shape) or a shape such as (1, 3, 224, 224); got '
                        f'{demo_input!r}')
    return tuple(shape)


@HOOKS.register_module()
class ResourceInfoHook(Hook):
    """Log the FLOPs and params of the model being pruned; save a checkpoint when its
    resource falls below each threshold; optionally stop training after the last.

    The model measured is the algorithm's ``architecture`` at its current widths.
    ``original`` is measured when the run starts (before any pruning or resuming).
    Every ``interval`` iterations (counted from 0, so also right after a pruning
    step at iteration 0), for each threshold ``t`` of ``save_ckpt_thr`` with
    ``current < t * original``, ``work_dir/{resource_type}_{t:.2f}.pth`` is saved
    (written to a temporary file, then renamed). With ``early_stop`` the train loop
    stops after the last threshold is passed: at once for an iteration-based loop,
    at the end of the current epoch for an epoch-based one.

    Args:
        demo_input (dict | BaseDemoInput | tuple): The input whose shape is
            measured. Defaults to ``dict(type='mmrazor.DefaultDemoInput',
            input_shape=(1, 3, 224, 224))``.
        interval (int): Check every ``interval`` iterations. Defaults to 10.
        resource_type (str): 'flops' or 'params'. Defaults to 'flops'.
        save_ckpt_thr (list[float]): Ratios of the original resource, in (0, 1].
            Defaults to [0.5].
        early_stop (bool): Stop training once every threshold is passed.
            Defaults to True.

    Example:
        >>> custom_hooks = [dict(type='mmrazor.ResourceInfoHook', interval=10,
        ...                      demo_input=dict(type='mmrazor.DefaultDemoInput',
        ...                                      input_shape=(1, 3, 224, 224)),
        ...                      save_ckpt_thr=[0.5])]
    """

    priority = 'LOW'

    def __init__(self,
                 demo_input: Union[Dict, BaseDemoInput, Sequence[int]] = dict(  # noqa: B006
                     type='mmrazor.DefaultDemoInput', input_shape=(1, 3, 224, 224)),
                 interval: int = 10,
                 resource_type: str = 'flops',
                 save_ckpt_thr: List[float] = [0.5],  # noqa: B006
                 early_stop: bool = True) -> None:
        if resource_type not in RESOURCE_TYPES:
            raise ValueError(f'resource_type must be one of {", ".join(RESOURCE_TYPES)}, '
                             f'got {resource_type!r}')
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive int, got {interval!r}')
        bad = [t for t in save_ckpt_thr
               if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 < t <= 1]
        if bad:
            raise ValueError(f'save_ckpt_thr holds ratios of the original {resource_type} '
                             f'in (0, 1]; got {bad}')
        self.input_shape = _input_shape(demo_input)
        self.interval = interval
        self.resource_type = resource_type
        self.save_ckpt_thr = sorted(save_ckpt_thr, reverse=True)  # next to pass first
        self.early_stop = early_stop
        self.estimator = TASK_UTILS.build(
            dict(type='mmrazor.ResourceEstimator', input_shape=self.input_shape))
        self.original: Optional[Dict[str, float]] = None

    def measure(self, runner) -> Dict[str, float]:
        """FLOPs and params (in M) of the runner's architecture as it is now."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        with torch.no_grad():
            result = self.estimator.estimate(architecture_of(model))
        return dict(flops=result['flops'], params=result['params'])

    def before_run(self, runner) -> None:
        self.original = self.measure(runner)
        runner.logger.info(f'Original resources (M): {self.original}')

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[Sequence] = None) -> None:
        if runner.iter % self.interval != 0:
            return
        current = self.measure(runner)
        ratio = current[self.resource_type] / self.original[self.resource_type]
        runner.logger.info(f'Resources (M) at iteration {runner.iter}: {current}, '
                           f'{ratio:.3f} of the original {self.resource_type}')
        while self.save_ckpt_thr and ratio < self.save_ckpt_thr[0]:
            self._save_checkpoint(runner, self.save_ckpt_thr.pop(0), ratio)
        if self.early_stop and not self.save_ckpt_thr:
            runner.train_loop.stop_training = True
            runner.logger.info('ResourceInfoHook: every threshold passed, stopping training')

    def _save_checkpoint(self, runner, threshold: float, ratio: float) -> None:
        name = f'{self.resource_type}_{threshold:.2f}.pth'
        temp = f'{name}.tmp'
        runner.save_checkpoint(runner.work_dir, temp, save_optimizer=False,
                               save_param_scheduler=False)
        if runner.rank == 0:
            os.replace(osp.join(runner.work_dir, temp), osp.join(runner.work_dir, name))
            runner.logger.info(f'Saved {name}: {self.resource_type} at {ratio:.3f} of the '
                               f'original, below {threshold}')

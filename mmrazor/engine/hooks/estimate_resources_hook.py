"""``EstimateResourcesHook``: log the model's FLOPs, params (and latency) during training."""
from typing import Any, Dict, Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmrazor.models.algorithms.base import architecture_of
from mmrazor.registry import HOOKS, TASK_UTILS


@HOOKS.register_module()
class EstimateResourcesHook(Hook):
    """Estimate and log the model's resources when training starts, then periodically.

    For an mmrazor algorithm the estimate is of its ``architecture``: the model that is
    deployed (a distillation teacher or a generator is not part of it), each layer at
    the width it computes with now.

    Args:
        interval (int): Estimate again every ``interval`` epochs (``by_epoch``) or
            iterations, after validation; -1 only at the start. Defaults to -1.
        by_epoch (bool): Whether ``interval`` counts epochs. Defaults to True.
        estimator_cfg (dict, optional): The estimator; ``type`` defaults to
            ``'mmrazor.ResourceEstimator'``. Defaults to None.

    Example:
        >>> custom_hooks = [dict(type='mmrazor.EstimateResourcesHook', interval=1,
        ...                      estimator_cfg=dict(input_shape=(1, 3, 32, 32)))]
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 interval: int = -1,
                 by_epoch: bool = True,
                 estimator_cfg: Optional[Dict[str, Any]] = None) -> None:
        if not isinstance(interval, int) or (interval < 1 and interval != -1):
            raise ValueError(f'interval must be a positive int or -1 (only at the start), '
                             f'got {interval!r}')
        self.interval = interval
        self.by_epoch = by_epoch
        estimator_cfg = dict(estimator_cfg or {})
        estimator_cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        self.estimator = TASK_UTILS.build(estimator_cfg)

    def before_train(self, runner) -> None:
        self.estimate_resources(runner, 'before training')

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.estimate_resources(runner, f'after epoch {runner.epoch}')

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[Sequence] = None) -> None:
        if not self.by_epoch and self.every_n_train_iters(runner, self.interval):
            self.estimate_resources(runner, f'after iteration {runner.iter + 1}')

    def every_n_epochs(self, runner, n: int, start: int = 0) -> bool:
        return n > 0 and super().every_n_epochs(runner, n, start)

    def every_n_train_iters(self, runner, n: int, start: int = 0) -> bool:
        return n > 0 and super().every_n_train_iters(runner, n, start)

    @staticmethod
    def measured_model(runner) -> nn.Module:
        """The deployable model: the unwrapped model, or an algorithm's architecture."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return architecture_of(model)

    def estimate_resources(self, runner, when: str) -> Dict[str, Any]:
        """Estimate the resources of the measured model and log them."""
        model = self.measured_model(runner)
        resources = self.estimator.estimate(model)
        runner.logger.info(f'Resources of {type(model).__name__} {when}: {resources} '
                           f'(units: {self.estimator.units})')
        return resources

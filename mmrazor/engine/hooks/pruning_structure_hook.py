"""``PruningStructureHook``: log the unit widths of a pruning algorithm while it trains."""
import json
from typing import Any, Optional, Sequence

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmrazor.models.mutators import ChannelMutator
from mmrazor.registry import HOOKS


def pruning_mutator_of(runner) -> ChannelMutator:
    """The ``ChannelMutator`` of the runner's (unwrapped) model, or a clear error."""
    model: nn.Module = runner.model.module if is_model_wrapper(runner.model) else runner.model
    mutator = getattr(model, 'mutator', None)
    if not isinstance(mutator, ChannelMutator):
        raise TypeError(f'this hook needs a pruning algorithm (a model with a '
                        f'ChannelMutator as `mutator`, e.g. ItePruneAlgorithm); got '
                        f'{type(model).__name__}')
    return mutator


@HOOKS.register_module()
class PruningStructureHook(Hook):
    """Log the current choice of every prunable unit, every ``interval`` epochs or
    iterations, so the structure's change during pruning can be followed in the log.

    Args:
        by_epoch (bool): Whether ``interval`` counts epochs. Defaults to True.
        interval (int): Log every ``interval`` epochs (iterations). Defaults to 1.

    Example:
        >>> custom_hooks = [dict(type='mmrazor.PruningStructureHook', by_epoch=False,
        ...                      interval=100)]
    """

    priority = 'LOW'

    def __init__(self, by_epoch: bool = True, interval: int = 1) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive int, got {interval!r}')
        self.by_epoch = by_epoch
        self.interval = interval

    def before_train(self, runner) -> None:
        pruning_mutator_of(runner)  # fail at the start, not after an epoch

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.show(runner, f'after epoch {runner.epoch + 1}')

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[Sequence] = None) -> None:
        if not self.by_epoch and self.every_n_train_iters(runner, self.interval):
            self.show(runner, f'after iteration {runner.iter + 1}')

    def show(self, runner, when: str) -> None:
        """Log ``{unit name: choice}`` of the mutable units."""
        choices = pruning_mutator_of(runner).current_choices
        runner.logger.info(f'Pruning structure {when}: {json.dumps(choices)}')

"""``StopDistillHook``: switch the distillation losses off from a given epoch."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmrazor.registry import HOOKS


@HOOKS.register_module()
class StopDistillHook(Hook):
    """Stop distilling at ``stop_epoch``; the student then trains on its own losses.

    The flag is a buffer of the algorithm, so it is saved in checkpoints and a resumed
    run keeps it.

    Args:
        stop_epoch (int): First epoch (0-based, as ``runner.epoch``) without
            distillation losses.
    """

    priority = 'LOW'

    def __init__(self, stop_epoch: int) -> None:
        if stop_epoch < 0:
            raise ValueError(f'stop_epoch must be >= 0, got {stop_epoch}')
        self.stop_epoch = stop_epoch

    def before_train_epoch(self, runner) -> None:
        if runner.epoch < self.stop_epoch:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'distillation_stopped'):
            raise AttributeError(f'StopDistillHook needs a distillation algorithm, got '
                                 f'{type(model).__name__}')
        if not bool(model.distillation_stopped):
            model.distillation_stopped.fill_(True)
            runner.logger.info(f'Distillation stopped at epoch {runner.epoch}.')

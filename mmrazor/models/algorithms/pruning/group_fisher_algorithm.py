"""``GroupFisherAlgorithm``: Group Fisher pruning during training (Liu et al., ICML 2021,
https://arxiv.org/abs/2108.00708)."""
from typing import Dict, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.model import BaseModel, revert_sync_batchnorm
from mmengine.optim import OptimWrapper

from mmrazor.models.mutators import GroupFisherChannelMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ..base import BaseAlgorithm

# MMRazor 1.x's per-algorithm wrapper name: the generic wrapper already runs a custom
# ``train_step`` with synchronized gradients, and the units sum Fisher information
# over the ranks themselves.
MODEL_WRAPPERS.register_module(name='GroupFisherDDP', module=AlgorithmDDP)


@MODELS.register_module()
class GroupFisherAlgorithm(BaseAlgorithm):
    """Prune the channel of least normalized Fisher importance every ``interval``
    training steps.

    Each step trains the architecture as usual while the mutator records the inputs
    and input gradients of the pruned layers; their Fisher importance is added up
    per channel. After ``interval`` steps the one channel of least importance (over
    all units) is pruned and the sums restart. FLOPs fall one channel at a time;
    ``ResourceInfoHook`` saves checkpoints as they cross targets.

    Args:
        architecture (dict | BaseModel): The model to prune.
        mutator (dict | GroupFisherChannelMutator): Defaults to
            ``dict(type='GroupFisherChannelMutator',
            channel_unit_cfg=dict(type='GroupFisherChannelUnit'))``.
        interval (int): Training steps between two pruned channels. Defaults to 10.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Initialization config. Defaults to None.

    Examples:
        >>> model = dict(
        ...     type='mmrazor.GroupFisherAlgorithm', architecture=architecture,
        ...     interval=10, mutator=dict(
        ...         type='GroupFisherChannelMutator',
        ...         parse_cfg=dict(type='ChannelAnalyzer', tracer_type='FxTracer'),
        ...         channel_unit_cfg=dict(type='GroupFisherChannelUnit',
        ...                               default_args=dict(normalization_type='act'))))
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[Dict, GroupFisherChannelMutator] = dict(  # noqa: B006
                     type='GroupFisherChannelMutator',
                     channel_unit_cfg=dict(type='GroupFisherChannelUnit')),
                 interval: int = 10,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive int (training steps between '
                             f'two pruned channels), got {interval!r}')
        super().__init__(architecture, data_preprocessor, init_cfg)
        self.interval = interval
        if not (dist.is_available() and dist.is_initialized()):
            # SyncBN cannot train in one process; it is plain BN there
            self.architecture = revert_sync_batchnorm(self.architecture)
        if isinstance(mutator, dict):
            mutator = MODELS.build(mutator)
        if not isinstance(mutator, GroupFisherChannelMutator):
            raise TypeError(f'mutator must be a GroupFisherChannelMutator or its config, '
                            f'got {type(mutator).__name__}')
        self.mutator = mutator
        self.mutator.prepare_from_supernet(self.architecture)
        self._accumulated_steps = 0

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One training step that also measures Fisher importance and, every
        ``interval`` steps, prunes one channel (the same on every rank)."""
        self.mutator.start_record_info()
        try:
            log_vars = super().train_step(data, optim_wrapper)
        finally:
            self.mutator.end_record_info()
        self.mutator.update_imp()
        self.mutator.reset_recorded_info()
        self._accumulated_steps += 1
        if self._accumulated_steps >= self.interval:
            self.mutator.try_prune()
            self.mutator.reset_imp()
            self._accumulated_steps = 0
        return log_vars

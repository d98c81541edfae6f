"""``DCFF``: iterative pruning by dynamic-coded filter fusion."""
import math
from typing import Dict, Optional, Union

import torch.nn as nn
from mmengine import MessageHub, MMLogger
from mmengine.model import BaseModel

from mmrazor.models.mutators import ChannelMutator, DCFFChannelMutator
from mmrazor.registry import MODELS

from .ite_prune_algorithm import Choice, ItePruneAlgorithm, ItePruneConfigManager


def dcff_temperature(step: int, total_steps: int, start: float = 1.0,
                     end: float = 1e4, k: float = 1.0) -> float:
    """DCFF's fusion temperature ``1 / T`` at pruning ``step`` of ``total_steps``.

    ``T`` rises along a logistic curve from ``start`` at step 0 to ``end`` at the last
    step (the paper's schedule), so fusion starts soft and ends as plain selection.
    """
    if total_steps < 1:
        raise ValueError(f'total_steps must be >= 1, got {total_steps}')
    decay = math.exp(-k * total_steps)
    scale = 2 * (end - start) * (1 + decay) / (1 - decay)
    curve = scale / (1 + math.exp(-k * step)) + start - scale / 2
    return 1 / curve


@MODELS.register_module()
class DCFF(ItePruneAlgorithm):
    """DCFF (Lin et al., "Training Compact CNNs via Dynamic-Coded Filter Fusion").

    The units' convs are ``FuseConv2d``: each kept filter is a softmax-weighted fusion
    of all filters of its layer. At every pruning step (each ``step_freq`` epochs, or
    iterations in an iteration-based loop) the widths are set to
    ``target_pruning_ratio`` and the fusions recomputed at a temperature that falls
    from 1 to 1e-4 over training (:func:`dcff_temperature`), so the fused filters
    end as the kept filters and the compact model (``to_static_op``) keeps them.

    Args:
        architecture (dict | BaseModel): The model to prune.
        mutator_cfg (dict | ChannelMutator): Defaults to ``dict(
            type='DCFFChannelMutator', channel_unit_cfg=dict(type='DCFFChannelUnit',
            units={}))``.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        target_pruning_ratio (dict, optional): ``{unit name: choice}``. Defaults to
            None (no unit pruned; the fusion still runs).
        step_freq (int): Epochs (or iterations) between fusion updates. Defaults to 1.
        prune_times (int): Number of updates; 0 means every ``step_freq`` until the
            end of training (the Runner's ``max_iters``). Defaults to 0.
        init_cfg (dict, optional): Weight init config. Defaults to None.
        linear_schedule (bool): Move widths linearly to the target over the updates
            (else the target from the first one). Defaults to False.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator_cfg: Union[Dict, ChannelMutator] = dict(  # noqa: B006
                     type='DCFFChannelMutator',
                     channel_unit_cfg=dict(type='DCFFChannelUnit', units={})),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 target_pruning_ratio: Optional[Dict[str, Choice]] = None,
                 step_freq: int = 1,
                 prune_times: int = 0,
                 init_cfg: Optional[Dict] = None,
                 linear_schedule: bool = False) -> None:
        super().__init__(architecture, mutator_cfg, data_preprocessor, target_pruning_ratio,
                         step_freq, prune_times, init_cfg, linear_schedule)
        if not isinstance(self.mutator, DCFFChannelMutator):
            raise TypeError(f'DCFF needs a DCFFChannelMutator, got '
                            f'{type(self.mutator).__name__}')

    def _total_iters(self, step_iters: int) -> int:
        info = MessageHub.get_current_instance().runtime_info
        if info.get('loop_stage') == 'train' and info.get('max_iters'):
            return int(info['max_iters'])
        if self.prune_times:
            return self.prune_times * step_iters
        raise ValueError('DCFF outside a Runner needs prune_times > 0 to know how long '
                         'the temperature schedule lasts')

    def prune_if_due(self) -> bool:
        """At a pruning step: set the widths, then fuse the filters anew at the step's
        temperature."""
        iteration, step_iters = self._iteration_and_step()
        total_steps = self.prune_times or math.ceil(self._total_iters(step_iters) / step_iters)
        manager = ItePruneConfigManager(self.target_pruning_ratio or dict(self.supernet_choices),
                                        self.supernet_choices, step_iters, total_steps,
                                        self.linear_schedule)
        if not manager.is_prune_time(iteration):
            return False
        self.mutator.set_choices(manager.prune_at(iteration))
        step = iteration // step_iters
        temperature = dcff_temperature(step, max(1, total_steps - 1))
        self.mutator.calc_information(temperature)
        MMLogger.get_current_instance().info(
            f'DCFF: step {step + 1}/{total_steps} at iteration {iteration}, fusion '
            f'temperature {temperature:.3g}')
        return True

"""``ItePruneAlgorithm``: prune a model's channels step by step during training."""
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine import MessageHub, MMLogger
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

from mmrazor.models.mutables import MutableChannelUnit, SquentialMutableChannel
from mmrazor.models.mutators import ChannelMutator
from mmrazor.registry import MODELS
from mmrazor.utils.lookup import closest_names

from ..base import BaseAlgorithm

Choice = Union[int, float]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_target_values(target: Optional[Dict[str, Choice]]) -> Dict[str, Choice]:
    """Check the form of a pruning target before anything is built.

    A ratio (float) keeps that share of a unit's channels and lies in (0, 1]; an int
    is a number of channels (``choice_mode='number'``) and is at least 1.
    """
    if target is None:
        return {}
    if not isinstance(target, dict):
        raise TypeError('target_pruning_ratio must be a dict {unit name: ratio}, e.g. '
                        "{'backbone.layer1.0.conv1_(0, 64)_64': 0.5}; got "
                        f'{type(target).__name__}')
    for name, value in target.items():
        if not isinstance(name, str) or not _is_number(value):
            raise TypeError(f'target_pruning_ratio maps unit names to numbers; got '
                            f'{name!r}: {value!r}')
        if isinstance(value, float) and not 0 < value <= 1:
            raise ValueError(f'target_pruning_ratio[{name!r}] = {value}: a ratio of kept '
                             'channels is in (0, 1]')
        if isinstance(value, int) and value < 1:
            raise ValueError(f'target_pruning_ratio[{name!r}] = {value}: a number of kept '
                             'channels is at least 1')
    return dict(target)


class ItePruneConfigManager:
    """The pruning schedule: which choices to set at which training iteration.

    Pruning happens at iterations ``0, step_freq, ..., (prune_times - 1) * step_freq``.
    With ``linear_schedule`` step ``t`` (1-based) moves each unit ``t / prune_times``
    of the way from its ``supernet`` choice to its ``target``; otherwise every step
    sets the target itself.

    Args:
        target (dict): ``{unit name: target choice}``.
        supernet (dict): ``{unit name: choice before pruning}``.
        step_freq (int): Iterations between two pruning steps. Defaults to 1.
        prune_times (int): How many pruning steps. Defaults to 1.
        linear_schedule (bool): Move linearly towards the target. Defaults to True.
    """

    def __init__(self, target: Dict[str, Choice], supernet: Dict[str, Choice],
                 step_freq: int = 1, prune_times: int = 1,
                 linear_schedule: bool = True) -> None:
        self.target = target
        self.supernet = supernet
        self.step_freq = step_freq
        self.prune_times = prune_times
        self.linear_schedule = linear_schedule

    def is_prune_time(self, iteration: int) -> bool:
        """Whether the model is pruned at ``iteration``."""
        return (iteration % self.step_freq == 0
                and iteration // self.step_freq < self.prune_times)

    def prune_at(self, iteration: int) -> Dict[str, Choice]:
        """The choices to set at ``iteration`` (a prune time)."""
        step = iteration // self.step_freq + 1
        if not 1 <= step <= self.prune_times:
            raise ValueError(f'iteration {iteration} is past the last pruning step '
                             f'({self.prune_times} steps every {self.step_freq})')
        choices = {}
        for name, target in self.target.items():
            start = self.supernet[name]
            value = start + (target - start) * step / self.prune_times \
                if self.linear_schedule else target
            choices[name] = int(value) if isinstance(start, int) else value
        return choices


@MODELS.register_module()
class ItePruneAlgorithm(BaseAlgorithm):
    """Prune channels iteratively during training until a target structure.

    Every ``step_freq`` iterations (epochs when the train loop has more than one
    epoch, as in MMRazor), ``prune_times`` times, the choices of the units named in
    ``target_pruning_ratio`` move towards their targets (see
    :class:`ItePruneConfigManager`); each step re-selects the kept channels, e.g. by
    L1 norm with ``L1MutableChannelUnit``. After the last step the structure stays.
    The kept channels are stored in checkpoints (``_extra_state``), so resuming or
    exporting a pruned checkpoint sees the pruned structure.

    Iterations come from the Runner's message hub while it trains; a ``train_step``
    called outside a Runner counts its own calls.

    Args:
        architecture (dict | BaseModel): The model to prune.
        mutator_cfg (dict | ChannelMutator): The channel mutator. Defaults to
            ``dict(type='ChannelMutator',
            channel_unit_cfg=dict(type='SequentialMutableChannelUnit'))``.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        target_pruning_ratio (dict, optional): ``{unit name: choice}``; a ratio in
            (0, 1] with ``choice_mode='ratio'`` units. ``tools/pruning/
            get_channel_units.py CONFIG --choice`` writes the template. Units not
            named are not pruned. Defaults to None (nothing pruned).
        step_freq (int): Iterations (or epochs) between pruning steps. Defaults to 1.
        prune_times (int): Number of pruning steps. Defaults to 1.
        init_cfg (dict, optional): Weight init config, e.g. ``Pretrained``.
            Defaults to None.
        linear_schedule (bool): Move linearly towards the target over the steps,
            else set the target at every step. Defaults to True.

    Example:
        >>> model = dict(type='mmrazor.ItePruneAlgorithm', architecture=classifier,
        ...              mutator_cfg=dict(type='ChannelMutator', channel_unit_cfg=dict(
        ...                  type='L1MutableChannelUnit',
        ...                  default_args=dict(choice_mode='ratio'))),
        ...              target_pruning_ratio={'backbone.layer1.0.conv1_(0, 64)_64': 0.5},
        ...              step_freq=1, prune_times=2)
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator_cfg: Union[Dict, ChannelMutator] = dict(  # noqa: B006
                     type='ChannelMutator',
                     channel_unit_cfg=dict(type='SequentialMutableChannelUnit')),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 target_pruning_ratio: Optional[Dict[str, Choice]] = None,
                 step_freq: int = 1,
                 prune_times: int = 1,
                 init_cfg: Optional[Dict] = None,
                 linear_schedule: bool = True) -> None:
        target = check_target_values(target_pruning_ratio)
        for name, value, low in (('step_freq', step_freq, 1), ('prune_times', prune_times, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
        super().__init__(architecture, data_preprocessor, init_cfg)
        self.mutator = self._build_mutator(mutator_cfg)
        self.mutator.prepare_from_supernet(self.architecture)
        try:
            self.target_pruning_ratio = self._check_target_units(target)
        except (KeyError, TypeError, ValueError):
            self._restore_static_architecture()
            raise
        self.step_freq = step_freq
        self.prune_times = prune_times
        self.linear_schedule = linear_schedule
        self.supernet_choices = self.mutator.current_choices
        self._own_steps = 0  # iterations of train_step calls outside a Runner

    @staticmethod
    def _build_mutator(mutator_cfg: Union[Dict, ChannelMutator]) -> ChannelMutator:
        mutator = MODELS.build(mutator_cfg) if isinstance(mutator_cfg, dict) else mutator_cfg
        if not isinstance(mutator, ChannelMutator):
            raise TypeError('mutator_cfg must be a ChannelMutator or its config dict, got '
                            f'{type(mutator).__name__}')
        return mutator

    def _restore_static_architecture(self) -> None:
        """Undo ``prepare_from_supernet`` on a rejected target: every dynamic op of the
        architecture (a caller's module, maybe) becomes a plain op again, at full width
        and with its weights."""
        from mmrazor.structures import to_static_model  # structures import algorithms
        self.mutator.fix_channel_mutables()
        to_static_model(self.architecture)

    def _check_target_units(self, target: Dict[str, Choice]) -> Dict[str, Choice]:
        units = {unit.name: unit for unit in self.mutator.mutable_units}
        for name, value in target.items():
            if name not in units:
                close = closest_names(name, units)
                raise KeyError(
                    f'target_pruning_ratio: {name!r} is not a prunable unit of the model'
                    + (f'; closest: {", ".join(close)}' if close else '')
                    + f'. The model has {len(units)} units; get_channel_units.py --choice '
                    'lists them')
            to_number = getattr(units[name], 'to_number', None)
            if callable(to_number):
                to_number(value)  # raises with the unit's valid range
        return target

    # ---- schedule ---------------------------------------------------------------

    def _iteration_and_step(self) -> Tuple[int, int]:
        """The current training iteration and the iterations between prune steps."""
        info = MessageHub.get_current_instance().runtime_info
        if info.get('loop_stage') != 'train' or 'iter' not in info:
            return self._own_steps, self.step_freq
        max_epochs, max_iters = info.get('max_epochs', 1), info.get('max_iters', 0)
        # MMRazor's rule: more than one epoch means an epoch-based loop
        per_epoch = max(1, max_iters // max_epochs) if max_epochs > 1 else 1
        return info['iter'], self.step_freq * per_epoch

    def prune_config_manager(self, step_iters: int) -> ItePruneConfigManager:
        """The schedule, with ``step_iters`` iterations between pruning steps."""
        target = self.target_pruning_ratio or dict(self.supernet_choices)
        return ItePruneConfigManager(target, self.supernet_choices, step_iters,
                                     self.prune_times, self.linear_schedule)

    def prune_if_due(self) -> bool:
        """Prune one step if the current iteration is a prune time."""
        iteration, step_iters = self._iteration_and_step()
        manager = self.prune_config_manager(step_iters)
        if not manager.is_prune_time(iteration):
            return False
        self.mutator.set_choices(manager.prune_at(iteration))
        step = iteration // step_iters + 1
        MMLogger.get_current_instance().info(
            f'ItePruneAlgorithm: pruning step {step}/{self.prune_times} at iteration '
            f'{iteration}')
        return True

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """Prune if due, then train one step on the (possibly) pruned model."""
        self.prune_if_due()
        self._own_steps += 1
        return super().train_step(data, optim_wrapper)

    # ---- checkpoints keep the kept channels --------------------------------------

    def get_extra_state(self) -> torch.Tensor:
        """The choice and kept-channel mask of every prunable unit, in unit order, as
        one float tensor ``[choice, *mask]`` per unit, concatenated: MMEngine's
        runner broadcasts state dicts between ranks, which takes tensors only."""
        return torch.cat([torch.cat([torch.tensor([float(unit.current_choice)],
                                                  dtype=torch.float64),
                                     unit.current_mask.cpu().to(torch.float64)])
                          for unit in self.mutator.mutable_units]) \
            if self.mutator.mutable_units else torch.zeros(0, dtype=torch.float64)

    def set_extra_state(self, state: torch.Tensor) -> None:
        """Restore the kept channels saved by :meth:`get_extra_state`."""
        units: List[MutableChannelUnit] = list(self.mutator.mutable_units)
        expected = sum(1 + unit.mutable_channel.num_channels for unit in units)
        if not isinstance(state, torch.Tensor) or state.numel() != expected:
            size = state.numel() if isinstance(state, torch.Tensor) else type(state).__name__
            raise ValueError(f'the checkpoint stores kept channels of size {size}, but '
                             f'this model\'s {len(units)} units need {expected}; was it '
                             'saved from another model?')
        offset = 0
        for unit in units:
            num = unit.mutable_channel.num_channels
            choice, mask = state[offset].item(), state[offset + 1:offset + 1 + num]
            offset += 1 + num
            channel = unit.mutable_channel
            if isinstance(channel, SquentialMutableChannel):
                if getattr(channel, 'choice_mode', 'ratio') == 'number':
                    choice = int(round(choice))
                unit.current_choice = choice
            else:  # the mask itself: selecting again would use the weights not loaded yet
                channel.current_choice = mask.to(torch.bool)

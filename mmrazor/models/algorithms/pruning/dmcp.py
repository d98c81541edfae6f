"""``DMCP``: differentiable Markov channel pruning."""
import random
from typing import Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import add_prefix
from mmrazor.models.mutators import DMCPChannelMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ..base import BaseAlgorithm

# MMRazor 1.x's wrapper name; the generic wrapper already runs a custom train_step
MODEL_WRAPPERS.register_module('DMCPDDP', module=AlgorithmDDP)

STRATEGIES = ('max', 'min', 'random', 'scheduled_random', 'arch_random')
FLOPS_LOSS_TYPES = ('log_l1', 'l1', 'l2', 'inverted_log_l1')


def flops_loss(expected: torch.Tensor, target: float, loss_type: str) -> torch.Tensor:
    """How far the expected FLOPs are from ``target`` (both in MFLOPs).

    ``'log_l1'`` is zero within ``[0.95 * target, target)`` and the log of the
    distance outside it (scaled by 0.1 beyond 200 MFLOPs away), so it pulls hard
    when close and does not overshoot below the target.
    """
    error = expected - target
    if loss_type == 'l1':
        return error.abs()
    if loss_type == 'l2':
        return error ** 2
    if loss_type == 'inverted_log_l1':
        return torch.log(error.abs() + 1e-5)
    lower = 0.95 * target
    if lower <= float(expected) < target:
        return expected * 0
    ratio = 0.1 if abs(float(error)) > 200 else 1.0
    distance = target - expected if float(expected) < lower else expected - lower
    return torch.log(ratio * distance)


@MODELS.register_module()
class DMCP(BaseAlgorithm):
    """DMCP (Guo et al., "DMCP: Differentiable Markov Channel Pruning", CVPR 2020).

    Each channel unit's width follows a Markov chain over width groups whose
    transition probabilities are learnt (see ``DMCPChannelUnit``). A training step:

    1. weights: one forward/backward per entry of ``strategy`` (sandwich rule):
       ``'max'`` (task loss; its outputs teach the others while distilling),
       ``'min'``, ``'random'`` (uniform widths), ``'arch_random'`` (widths drawn from
       the Markov chains once they train, uniform before) and ``'scheduled_random'``
       (uniform with a probability falling linearly from 1 to 0 over
       ``distillation_times`` iterations, else as ``'arch_random'``); the
       subnets after the max one learn from it (in-place distillation through
       the distiller) during the first ``distillation_times`` iterations and from the
       task loss after; then one ``architecture`` optimizer step;
    2. architecture: from iteration ``arch_start_train`` on, every
       ``arch_train_freq`` iterations, the max network with its channels weighted
       by their keep probabilities gives the task loss plus
       ``flop_loss_weight * flops_loss(expected FLOPs, target_flops)``, and the
       ``mutator`` optimizer steps the Markov parameters.

    ``optim_wrapper`` must then hold ``architecture`` and ``mutator`` wrappers
    (``SeparateOptimWrapperConstructor``). After a step the model is left at its
    max width, so validation measures the max network. ``DMCPSubnetHook`` samples
    subnets from the learnt chains after training and exports the one nearest
    ``target_flops``.

    Args:
        distiller (dict): A ``ConfigurableDistiller`` config; its teacher and student
            recorders both watch the architecture.
        architecture (dict | BaseModel): The model.
        mutator_cfg (dict | DMCPChannelMutator): Defaults to
            ``dict(type='DMCPChannelMutator',
            channel_unit_cfg=dict(type='DMCPChannelUnit'))``.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.
        strategy (list): The subnets of a weight step. Defaults to
            ['max', 'min', 'arch_random'].
        arch_start_train (int): First iteration that trains the architecture.
            Defaults to 10000.
        arch_train_freq (int): Iterations between architecture steps. Defaults to 500.
        distillation_times (int): Iterations with in-place distillation. Defaults to
            20000.
        target_flops (float): Target FLOPs in M (conv and linear multiply-adds).
            Defaults to 150.
        flops_loss_type (str): One of 'log_l1', 'l1', 'l2', 'inverted_log_l1'.
            Defaults to 'log_l1'.
        flop_loss_weight (float): Weight of the FLOPs loss. Defaults to 1.0.
    """

    def __init__(self,
                 distiller: Dict,
                 architecture: Union[BaseModel, Dict],
                 mutator_cfg: Union[Dict, DMCPChannelMutator] = dict(  # noqa: B006
                     type='DMCPChannelMutator',
                     channel_unit_cfg=dict(type='DMCPChannelUnit')),
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 strategy: List[str] = ['max', 'min', 'arch_random'],  # noqa: B006
                 arch_start_train: int = 10000,
                 arch_train_freq: int = 500,
                 distillation_times: int = 20000,
                 target_flops: float = 150,
                 flops_loss_type: str = 'log_l1',
                 flop_loss_weight: float = 1.0) -> None:
        self._check_args(strategy, flops_loss_type, arch_train_freq, target_flops)
        super().__init__(architecture, data_preprocessor, init_cfg)
        mutator = MODELS.build(mutator_cfg) if isinstance(mutator_cfg, dict) else mutator_cfg
        if not isinstance(mutator, DMCPChannelMutator):
            raise TypeError(f'DMCP needs a DMCPChannelMutator, got {type(mutator).__name__}')
        self.mutator = mutator
        self.mutator.prepare_from_supernet(self.architecture)
        # after the mutator: recorders hook the layers it made dynamic
        self.distiller = MODELS.build(distiller) if isinstance(distiller, dict) else distiller
        self.distiller.prepare_from_student(self.architecture)
        self.distiller.prepare_from_teacher(self.architecture)
        self.strategy = list(strategy)
        self.arch_start_train = arch_start_train
        self.arch_train_freq = arch_train_freq
        self.distillation_times = distillation_times
        self.target_flops = target_flops
        self.flops_loss_type = flops_loss_type
        self.flop_loss_weight = flop_loss_weight
        # the step count is saved in checkpoints, so a resumed run keeps its schedule
        self.register_buffer('iteration', torch.zeros((), dtype=torch.long))

    @staticmethod
    def _check_args(strategy: List[str], flops_loss_type: str, arch_train_freq: int,
                    target_flops: float) -> None:
        unknown = [kind for kind in strategy if kind not in STRATEGIES]
        if unknown or not strategy:
            raise ValueError(f'strategy entries must be in {STRATEGIES}, got {strategy}')
        if flops_loss_type not in FLOPS_LOSS_TYPES:
            raise ValueError(f'flops_loss_type must be one of {FLOPS_LOSS_TYPES}, got '
                             f'{flops_loss_type!r}')
        if arch_train_freq < 1 or target_flops <= 0:
            raise ValueError(f'arch_train_freq must be >= 1 and target_flops > 0, got '
                             f'{arch_train_freq} and {target_flops}')

    # ---- schedule -----------------------------------------------------------------

    def _arch_trained(self, iteration: int) -> bool:
        return iteration >= self.arch_start_train

    def is_arch_step(self, iteration: int) -> bool:
        """Whether ``iteration`` trains the architecture parameters."""
        return self._arch_trained(iteration) and \
            (iteration - self.arch_start_train) % self.arch_train_freq == 0

    def _subnet_mode(self, kind: str, iteration: int) -> str:
        if kind in ('max', 'min', 'random'):
            return kind
        learnt = 'direct' if self._arch_trained(iteration) else 'random'
        if kind == 'scheduled_random':
            uniform_prob = max(0.0, 1 - iteration / max(1, self.distillation_times))
            return 'random' if random.random() < uniform_prob else learnt
        return learnt

    # ---- steps --------------------------------------------------------------------

    @staticmethod
    def _wrappers(optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                  ) -> Tuple[OptimWrapper, Optional[OptimWrapper]]:
        if isinstance(optim_wrapper, OptimWrapperDict):
            missing = [k for k in ('architecture', 'mutator') if k not in optim_wrapper]
            if missing:
                raise KeyError(f'DMCP needs optim wrappers for architecture and mutator; '
                               f'missing {missing} (keys: {list(optim_wrapper.keys())})')
            return optim_wrapper['architecture'], optim_wrapper['mutator']
        return optim_wrapper, None

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """One weight step over the strategy's subnets, then an architecture step
        when due (see the class docstring)."""
        weights, arch = self._wrappers(optim_wrapper)
        iteration = int(self.iteration)
        if self.is_arch_step(iteration) and arch is None:
            raise TypeError('DMCP trains its architecture parameters with a separate '
                            'optimizer: build optim_wrapper with constructor='
                            "'mmrazor.SeparateOptimWrapperConstructor' and keys "
                            "'architecture' and 'mutator'")
        data = self.data_preprocessor(data, True)
        log_vars = self._weight_step(data, weights, iteration)
        if self.is_arch_step(iteration):
            log_vars.update(self._arch_step(data, weights, arch))
        self.mutator.set_subnet('max')
        self.iteration += 1
        return log_vars

    def _weight_step(self, data: Dict, weights: OptimWrapper,
                     iteration: int) -> Dict[str, torch.Tensor]:
        log_vars: Dict[str, torch.Tensor] = {}
        distill, taught = iteration < self.distillation_times, False
        for index, kind in enumerate(self.strategy):
            self.mutator.set_subnet(self._subnet_mode(kind, iteration))
            with weights.optim_context(self):
                if kind == 'max':
                    with self.distiller.teacher_recorders:
                        losses = self.architecture(**data, mode='loss')
                    taught = True
                elif distill and taught:  # the max subnet's outputs of this step teach
                    with self.distiller.student_recorders:
                        self.architecture(**data, mode='tensor')
                    losses = self.distiller.compute_distill_losses()
                else:
                    losses = self.architecture(**data, mode='loss')
            loss, subnet_vars = self.parse_losses(losses)
            weights.backward(loss)
            log_vars.update(add_prefix(subnet_vars, f'{index}_{kind}'))
        weights.step()
        weights.zero_grad()
        return log_vars

    def _arch_step(self, data: Dict, weights: OptimWrapper,
                   arch: OptimWrapper) -> Dict[str, torch.Tensor]:
        self.mutator.set_subnet('max')
        self.mutator.set_arch_train(True)
        try:
            with arch.optim_context(self):
                task_loss, _ = self.parse_losses(self.architecture(**data, mode='loss'))
        finally:
            self.mutator.set_arch_train(False)
        expected = self.mutator.expected_flops()
        floss = self.flop_loss_weight * flops_loss(expected, self.target_flops,
                                                   self.flops_loss_type)
        arch.update_params(task_loss + floss)
        weights.zero_grad()  # the architecture loss trains only the Markov parameters
        return {'arch.loss': task_loss.detach(), 'arch.flops_loss': floss.detach(),
                'arch.expected_flops': expected.detach()}

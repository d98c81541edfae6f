"""``DSNAS``: direct sparse optimisation NAS (Hu et al., CVPR 2020): one sampled path
per step, weights and architecture trained together, no retraining."""
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import add_prefix
from mmrazor.models.mutables import OneHotMutableOP
from mmrazor.models.mutators import NasMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS, TASK_UTILS

from .darts import Batch, DifferentiableNAS, _check_optim_wrapper

# MMRazor 1.x configs name per-algorithm wrappers; the one AlgorithmDDP serves them.
MODEL_WRAPPERS.register_module(name='DSNASDDP', module=AlgorithmDDP)


class CostTable:
    """FLOPs of a supernet's one-hot ops, counted once: the rest of the network
    (``base``) and every candidate of every op, so a subnet's FLOPs are a sum.

    Args:
        base (float): FLOPs outside the ops.
        ops (dict): ``{op name: {candidate: FLOPs}}``.
    """

    def __init__(self, base: float, ops: Dict[str, Dict[str, float]]) -> None:
        self.base = base
        self.ops = ops

    def flops(self, chosen: Dict[str, str]) -> float:
        """FLOPs of the subnet with ``{op name: candidate}``."""
        return self.base + sum(self.ops[name][choice] for name, choice in chosen.items())


@MODELS.register_module()
class DSNAS(DifferentiableNAS):
    """DSNAS: every step samples one candidate per ``OneHotMutableOP`` from the
    softmax of its architecture parameter, trains the sampled path's weights and
    then the architecture parameters, from the same batch.

    The architecture gradient is the paper's: for each op, the gradient of the
    loss with respect to its sampled one-hot weight (``arch_weights``) times the
    gradient of the sampled candidate's log-probability. While the subnet of the
    most likely candidates exceeds ``flops_constraints`` (MFLOPs by the
    estimator's units), ``0.01 * sum(prob * FLOPs)`` of the sampled candidates is
    added to the architecture loss. FLOPs come from a table counted once (the
    candidates and the rest of the network), not from a forward per step.

    Stages by epoch: before ``pretrain_epochs`` only weights train; until
    ``finetune_epochs`` both; at ``finetune_epochs`` the most likely subnet is
    fixed (under ``torch.distributed``, rank 0's architecture parameters first)
    and only its weights train on.

    Needs an ``OptimWrapperDict`` with ``architecture`` and ``mutator`` optimizers
    (``SeparateOptimWrapperConstructor``); with a single optimizer the sampled
    paths train as a plain model.

    Args:
        architecture (dict | BaseModel): The supernet, with ``OneHotMutableOP``s.
        mutator (dict | NasMutator, optional): Defaults to None: ``NasMutator()``.
        pretrain_epochs (int): Epochs of weights-only training. Defaults to 0.
        finetune_epochs (int): The epoch at which the subnet is fixed. Defaults to
            80.
        flops_constraints (float): The FLOPs budget of the most likely subnet.
            Defaults to 300.0.
        estimator_cfg (dict, optional): Config of the FLOPs estimator. Defaults to
            None: ``dict(type='mmrazor.ResourceEstimator')`` (224x224 input).
        norm_training (bool): Keep batch norms in training mode in eval mode too.
            Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.

    Note:
        Ranks may sample different candidates (``diff_rank_seed=True``): under
        ``torch.distributed`` the weights a rank did not use get zero gradients,
        so every rank steps the same parameters and ``AlgorithmDDP`` (registered
        as ``DSNASDDP`` too) averages them.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 pretrain_epochs: int = 0,
                 finetune_epochs: int = 80,
                 flops_constraints: float = 300.0,
                 estimator_cfg: Optional[Dict[str, Any]] = None,
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if pretrain_epochs >= finetune_epochs:
            raise ValueError(f'DSNAS pretrains before it finetunes: pretrain_epochs '
                             f'({pretrain_epochs}) must be < finetune_epochs '
                             f'({finetune_epochs})')
        super().__init__(architecture, mutator, norm_training, data_preprocessor, init_cfg)
        not_one_hot = [type(m).__name__ for key in self.mutator.arch_params
                       for m in self.mutator.search_groups[key]
                       if not isinstance(m, OneHotMutableOP)]
        if not_one_hot:
            raise TypeError(f'DSNAS samples one-hot paths: its differentiable mutables must '
                            f'be OneHotMutableOPs, got {sorted(set(not_one_hot))}')
        self.pretrain_epochs = pretrain_epochs
        self.finetune_epochs = finetune_epochs
        self.flops_constraints = flops_constraints
        self.flops_loss_coef = 1e-2
        estimator_cfg = dict(estimator_cfg or {})
        estimator_cfg.setdefault('type', 'mmrazor.ResourceEstimator')
        self.estimator = TASK_UTILS.build(estimator_cfg)
        self._cost_table: Optional[CostTable] = None
        self.is_supernet = True

    # ---- FLOPs -------------------------------------------------------------------

    def _one_hot_ops(self) -> Dict[str, OneHotMutableOP]:
        return {name: m for name, m in self.architecture.named_modules()
                if isinstance(m, OneHotMutableOP)}

    @property
    def cost_table(self) -> CostTable:
        """The FLOPs table of the supernet, counted on first use."""
        if self._cost_table is None:
            self._cost_table = self._count_costs()
        return self._cost_table

    def _count_costs(self) -> CostTable:
        ops = self._one_hot_ops()
        shapes: Dict[str, Tuple[int, ...]] = {}

        def record_shape(name: str) -> Callable:
            def hook(_: nn.Module, args: tuple) -> None:
                shapes[name] = tuple(args[0].shape)
            return hook

        hooks = [op.register_forward_pre_hook(record_shape(name)) for name, op in ops.items()]
        try:  # one forward: the total, each op as it ran, and each op's input shape
            counted = self.estimator.estimate_separation_modules(
                self.architecture, dict(spec_modules=[''] + list(ops)))
        finally:
            for hook in hooks:
                hook.remove()
        base = counted['']['flops'] - sum(counted[name]['flops'] for name in ops)
        table = {name: {choice: self.estimator.estimate(
            op._candidates[choice], flops_params_cfg=dict(input_shape=shapes[name]))['flops']
            for choice in op.choices} for name, op in ops.items()}
        return CostTable(base, table)

    def _likely_subnet(self) -> Dict[str, str]:
        """``{op name: its most likely candidate}`` (the fixed choice if fixed)."""
        likely = {}
        for key, arch_param in self.mutator.arch_params.items():
            for mutable in self.mutator.search_groups[key]:
                likely[id(mutable)] = (mutable.current_choice if mutable.is_fixed else
                                       mutable.sample_choice(arch_param))
        return {name: likely[id(op)] for name, op in self._one_hot_ops().items()}

    # ---- training ----------------------------------------------------------------

    def need_update_mutator(self, cur_epoch: int) -> bool:
        """Whether the architecture parameters train in epoch ``cur_epoch``."""
        return self.pretrain_epochs <= cur_epoch < self.finetune_epochs

    def train_step(self, data: Batch,
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """Train the sampled path's weights, then (in the search stage) the
        architecture parameters.

        Returns:
            dict: Log variables, prefixed ``supernet.`` and ``mutator.``.
        """
        if not isinstance(optim_wrapper, OptimWrapperDict):
            return super().train_step(data, optim_wrapper)
        _check_optim_wrapper(optim_wrapper, 'DSNAS')
        epoch = MessageHub.get_current_instance().get_info('epoch', 0)
        if epoch >= self.finetune_epochs and self.is_supernet:
            self.fix_subnet()
        update_mutator = self.is_supernet and self.need_update_mutator(epoch)
        if update_mutator and self._cost_table is None:
            # counted before the step's forward: its own forward samples new paths
            self._cost_table = self._count_costs()
        weights, arch = optim_wrapper['architecture'], optim_wrapper['mutator']
        with weights.optim_context(self):
            loss, supernet_vars = self._losses(data)
        weights.backward(loss)
        _fill_missing_grads(weights.optimizer)
        weights.step()
        weights.zero_grad()
        # the straight-through gradients of the one-hot ops are not DSNAS's
        arch.zero_grad()
        log_vars = add_prefix(supernet_vars, 'supernet')
        if update_mutator:
            with arch.optim_context(self):
                mutator_loss, mutator_vars = self.parse_losses(self.compute_mutator_loss())
            arch.update_params(mutator_loss)
            log_vars.update(add_prefix(mutator_vars, 'mutator'))
        return log_vars

    def compute_mutator_loss(self) -> Dict[str, torch.Tensor]:
        """The architecture losses of the last forward: ``arch_loss`` (each op's
        one-hot credit times its sampled log-probability) and, over budget,
        ``flops_loss``."""
        name_of = {id(op): name for name, op in self._one_hot_ops().items()}
        sampled = []  # read before the table is counted: its forward samples anew
        for key, arch_param in self.mutator.arch_params.items():
            for mutable in self.mutator.search_groups[key]:
                weights = getattr(mutable, 'arch_weights', None)
                if mutable.is_fixed or weights is None or weights.grad is None:
                    continue  # fixed (DSNAS's threshold) or not on this step's path
                index = int(torch.argmax(weights))
                sampled.append((mutable, arch_param, index, weights.grad[index].detach()))
        arch_terms: List[torch.Tensor] = []
        flops_terms: List[torch.Tensor] = []
        for mutable, arch_param, index, credit in sampled:
            probs = mutable.compute_arch_probs(arch_param)
            arch_terms.append(credit * torch.log(probs[index]))
            cost = self.cost_table.ops[name_of[id(mutable)]][mutable.choices[index]]
            flops_terms.append(probs[index] * cost)
        zero = next(iter(self.mutator.arch_params.values())).sum() * 0
        losses = dict(arch_loss=sum(arch_terms, zero))
        if self.cost_table.flops(self._likely_subnet()) >= self.flops_constraints:
            losses['flops_loss'] = self.flops_loss_coef * sum(flops_terms, zero)
        return losses

    def fix_subnet(self) -> None:
        """Fix every op at its most likely candidate (rank 0's, under
        ``torch.distributed``); the supernet becomes the subnet."""
        if dist.is_available() and dist.is_initialized():
            for arch_param in self.mutator.arch_params.values():
                dist.broadcast(arch_param.data, src=0)
        for key, arch_param in self.mutator.arch_params.items():
            group = self.mutator.search_groups[key]
            fixed = next((m for m in group if m.is_fixed), None)
            choice = fixed.current_choice if fixed else group[0].sample_choice(arch_param)
            for mutable in group:
                if not mutable.is_fixed:
                    mutable.fix_chosen(choice)
        self.is_supernet = False


def _fill_missing_grads(optimizer: torch.optim.Optimizer) -> None:
    """Under ``torch.distributed``, zero gradients for the parameters off this rank's
    sampled path, so all ranks step (and average) the same parameters."""
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return
    for group in optimizer.param_groups:
        for param in group['params']:
            if param.grad is None:
                param.grad = torch.zeros_like(param)

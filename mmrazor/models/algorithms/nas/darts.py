"""``Darts``: differentiable architecture search (Liu et al., ICLR 2019), first and
second order."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import add_prefix
from mmrazor.models.mutators import NasMutator
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ..base import BaseAlgorithm
from .norm_training import NormTrainingMixin

# MMRazor 1.x configs name per-algorithm wrappers; the one AlgorithmDDP serves them.
MODEL_WRAPPERS.register_module(name='DartsDDP', module=AlgorithmDDP)

OPTIM_KEYS = ('architecture', 'mutator')
Batch = Union[dict, tuple, list]


class DifferentiableNAS(NormTrainingMixin, BaseAlgorithm):
    """The part of DARTS and DSNAS that is shared: a ``NasMutator`` whose
    architecture parameters (one per search group, in ``mutator.arch_params``)
    weigh the supernet's differentiable mutables, and ``norm_training``.

    Args:
        architecture (dict | BaseModel): The supernet.
        mutator (dict | NasMutator, optional): Defaults to None: ``NasMutator()``.
        norm_training (bool): Keep batch norms in training mode in eval mode too.
            Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, data_preprocessor, init_cfg)
        if mutator is None:
            mutator = NasMutator()
        elif isinstance(mutator, dict):
            mutator = MODELS.build(mutator)
        if not isinstance(mutator, NasMutator):
            raise TypeError(f'{type(self).__name__} needs a NasMutator (or its config '
                            f'dict), got {type(mutator).__name__}')
        self.mutator = mutator
        self.mutator.prepare_from_supernet(self.architecture)
        self.mutator.prepare_arch_params()
        if not self.mutator.arch_params:
            raise ValueError(f'{type(self).__name__} found no differentiable mutable in '
                             f'{type(self.architecture).__name__}: use DiffMutableOP / '
                             'DiffChoiceRoute (DARTS) or OneHotMutableOP (DSNAS) ops')
        self.norm_training = norm_training

    def _losses(self, data: Batch) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """The parsed loss of the supernet on one (not yet preprocessed) batch."""
        data = self.data_preprocessor(data, True)
        return self.parse_losses(self(**data, mode='loss'))

    def _weights(self) -> List[nn.Parameter]:
        return [p for p in self.architecture.parameters() if p.requires_grad]


def _check_optim_wrapper(optim_wrapper: OptimWrapperDict, owner: str) -> None:
    missing = [key for key in OPTIM_KEYS if key not in optim_wrapper]
    if missing:
        raise KeyError(f'{owner} steps two optimizers, {OPTIM_KEYS}; the optim wrapper has '
                       f'{list(optim_wrapper.keys())}. Use optim_wrapper=dict(constructor='
                       "'mmrazor.SeparateOptimWrapperConstructor', architecture=dict("
                       'optimizer=...), mutator=dict(optimizer=...))')


def _grads(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> List[torch.Tensor]:
    """d loss / d params, zeros for the parameters the loss does not use."""
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]


@MODELS.register_module()
class Darts(DifferentiableNAS):
    """DARTS: weights and architecture parameters trained in turns, on two splits.

    With an ``OptimWrapperDict`` of ``architecture`` and ``mutator`` optimizers
    (``SeparateOptimWrapperConstructor``) each step takes a pair ``(train batch,
    mutator batch)`` (``DartsEpochBasedTrainLoop`` gives them): first the
    architecture parameters step on the mutator batch's loss, then the weights on
    the train batch's loss. Each step uses only its own split's gradients (the
    other optimizer's parameters keep none). With ``unroll=True`` (second order)
    the architecture gradient is taken at the weights after a virtual SGD step
    ``w' = w - lr * (momentum * m + grad + weight_decay * w)`` with the settings
    of the ``architecture`` optimizer's first parameter group, and the product of
    the mixed second derivative with ``d L_val / d w'`` is a central finite
    difference with ``eps = 0.01 / ||d L_val / d w'||``, as in the paper. With a single optimizer
    the supernet trains as a plain model (weights and architecture together).

    The derived subnet is ``mutator.sample_choices()`` (the choices of the largest
    architecture parameters) exported with ``export_fix_subnet``.

    Args:
        architecture (dict | BaseModel): The supernet, e.g. an ``ImageClassifier``
            over a ``DartsBackbone``.
        mutator (dict | NasMutator, optional): Defaults to None: ``NasMutator()``.
        unroll (bool): Second-order (unrolled) architecture gradients. Defaults to
            False.
        norm_training (bool): Keep batch norms in training mode in eval mode too.
            Defaults to False.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.

    Examples:
        >>> model = dict(type='mmrazor.Darts', architecture=supernet,
        ...              mutator=dict(type='mmrazor.NasMutator'), unroll=True)
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Optional[Union[NasMutator, Dict]] = None,
                 unroll: bool = False,
                 norm_training: bool = False,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(architecture, mutator, norm_training, data_preprocessor, init_cfg)
        self.unroll = unroll

    def train_step(self, data: Batch,
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """One bi-level step (architecture, then weights), or a plain step.

        Returns:
            dict: Log variables, prefixed ``mutator.`` and ``supernet.`` in a
            bi-level step.
        """
        paired = isinstance(data, (tuple, list)) and len(data) == 2
        if not isinstance(optim_wrapper, OptimWrapperDict):
            if paired:
                raise TypeError('Darts got (train batch, mutator batch) pairs but one '
                                'optimizer; give it two with SeparateOptimWrapperConstructor '
                                f'(keys {OPTIM_KEYS})')
            return super().train_step(data, optim_wrapper)
        _check_optim_wrapper(optim_wrapper, 'Darts')
        if not paired:
            raise TypeError('Darts with separate optimizers steps on (train batch, mutator '
                            'batch) pairs, as mmrazor.DartsEpochBasedTrainLoop / '
                            f'DartsIterBasedTrainLoop give them; got a {type(data).__name__}')
        supernet_data, mutator_data = data
        weights, arch = optim_wrapper['architecture'], optim_wrapper['mutator']
        arch.zero_grad()
        with arch.optim_context(self):
            if self.unroll:
                mutator_vars = self._unrolled_backward(mutator_data, supernet_data, weights)
            else:
                loss, mutator_vars = self._losses(mutator_data)
                arch.backward(loss)
        arch.step()
        arch.zero_grad()
        # the mutator loss left gradients on the weights: they are not the train split's
        weights.zero_grad()
        with weights.optim_context(self):
            loss, supernet_vars = self._losses(supernet_data)
        weights.update_params(loss)
        arch.zero_grad()  # nor are the train loss's gradients the mutator's
        return {**add_prefix(mutator_vars, 'mutator'), **add_prefix(supernet_vars, 'supernet')}

    def _unrolled_backward(self, mutator_data: Batch, supernet_data: Batch,
                           weights_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """Put the second-order architecture gradient on the architecture
        parameters; the weights are left as they were."""
        weights = self._weights()
        arch_params = list(self.mutator.arch_params.values())
        backup = [w.detach().clone() for w in weights]
        lr = self._virtual_step(supernet_data, weights, weights_wrapper)
        val_loss, log_vars = self._losses(mutator_data)
        grads = _grads(val_loss, weights + arch_params)
        d_weights, d_arch = grads[:len(weights)], grads[len(weights):]
        hessian = self._hessian_product(supernet_data, weights, arch_params, backup,
                                        d_weights)
        self._restore(weights, backup)
        for param, d, h in zip(arch_params, d_arch, hessian):
            grad = d - lr * h
            param.grad = grad if param.grad is None else param.grad + grad
        return log_vars

    def _virtual_step(self, supernet_data: Batch, weights: List[nn.Parameter],
                      weights_wrapper: OptimWrapper) -> float:
        """Move the weights to ``w'`` (one SGD step on the train batch with the lr,
        momentum and weight decay of the weights optimizer's first parameter group,
        as the paper's single-group SGD has them); return the lr."""
        group = weights_wrapper.optimizer.param_groups[0]
        lr = group['lr']
        momentum, weight_decay = group.get('momentum', 0.), group.get('weight_decay', 0.)
        loss, _ = self._losses(supernet_data)
        grads = _grads(loss, weights)
        state = weights_wrapper.optimizer.state
        with torch.no_grad():
            for w, g in zip(weights, grads):
                buffer = state[w].get('momentum_buffer') if w in state else None
                step = g + weight_decay * w
                if buffer is not None:
                    step = step + momentum * buffer
                w.sub_(lr * step)
        return lr

    def _hessian_product(self, supernet_data: Batch, weights: List[nn.Parameter],
                         arch_params: List[nn.Parameter], backup: List[torch.Tensor],
                         direction: List[torch.Tensor]) -> List[torch.Tensor]:
        """``(d_a L_train(w + eps v) - d_a L_train(w - eps v)) / (2 eps)``, the mixed
        second derivative times ``v``, with ``eps = 0.01 / ||v||``."""
        norm = torch.cat([d.flatten() for d in direction]).norm()
        eps = 0.01 / norm.clamp_min(1e-12)  # a zero direction makes a zero product
        dalphas = []
        for sign in (1., -1.):
            with torch.no_grad():
                for w, b, d in zip(weights, backup, direction):
                    w.copy_(b + sign * eps * d)
            loss, _ = self._losses(supernet_data)
            dalphas.append(_grads(loss, arch_params))
        return [(pos - neg) / (2 * eps) for pos, neg in zip(*dalphas)]

    @staticmethod
    def _restore(weights: List[nn.Parameter], backup: List[torch.Tensor]) -> None:
        with torch.no_grad():
            for w, b in zip(weights, backup):
                w.copy_(b)

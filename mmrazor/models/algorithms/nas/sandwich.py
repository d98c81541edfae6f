"""The sandwich rule with in-place distillation (Yu & Huang, "Universally Slimmable
Networks", 2019), shared by BigNAS and AutoSlim."""
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmengine.dist import broadcast_object_list
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import add_prefix
from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS

from ..base import BaseAlgorithm


class SandwichAlgorithm(BaseAlgorithm):
    """Trains a supernet with the sandwich rule and in-place distillation.

    Each ``train_step`` runs the max subnet on the labels (the distiller's teacher
    recorders record its outputs), then the min subnet and ``num_random_samples``
    random subnets, each trained only by the distiller's losses against the max
    subnet's outputs of this step; the gradients of all of them are summed (averaged
    when the optim wrapper's ``accumulative_counts`` is the number of subnets, as
    MMRazor's AutoSlim configs set) and the optimizer steps once. Random subnets are
    drawn on rank 0 and broadcast, so every rank trains the same subnets. After the
    step the supernet is left at its max subnet, so validation without a subnet loop
    measures the max subnet.

    Args:
        architecture (dict | BaseModel): The supernet.
        mutator (dict | nn.Module): Samples the supernet's choices; it has
            ``sample_choices(kind)`` (kind 'max', 'min' or 'random') and
            ``set_choices``.
        distiller (dict | ConfigurableDistiller): Its teacher and student recorders
            both watch the architecture (e.g. ``head.fc``).
        num_random_samples (int): Random subnets per step. Defaults to 2.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's.
        init_cfg (dict, optional): Weight init config. Defaults to None.
    """

    mutator_types: Tuple[type, ...] = ()

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 mutator: Union[nn.Module, Dict],
                 distiller: Union[ConfigurableDistiller, Dict],
                 num_random_samples: int = 2,
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        if isinstance(num_random_samples, bool) or not isinstance(num_random_samples, int) \
                or num_random_samples < 0:
            raise ValueError(f'num_random_samples must be an int >= 0, got '
                             f'{num_random_samples!r}')
        super().__init__(architecture, data_preprocessor, init_cfg)
        self.mutator = self._build(mutator, self.mutator_types, 'mutator')
        self.mutator.prepare_from_supernet(self.architecture)
        # after the mutator: recorders hook the layers it may have made dynamic
        self.distiller = self._build(distiller, (ConfigurableDistiller, ), 'distiller')
        self.distiller.prepare_from_student(self.architecture)
        self.distiller.prepare_from_teacher(self.architecture)
        self.num_random_samples = num_random_samples

    def _build(self, cfg: Union[nn.Module, Dict], types: Tuple[type, ...],
               what: str) -> nn.Module:
        module = MODELS.build(cfg) if isinstance(cfg, dict) else cfg
        if not isinstance(module, types):
            raise TypeError(f'{type(self).__name__} needs a {what} of type '
                            f'{" or ".join(t.__name__ for t in types)} (or its config '
                            f'dict), got {type(module).__name__}')
        return module

    @property
    def sample_kinds(self) -> List[str]:
        """The subnets of a step: ``['max', 'min', 'random0', ...]``."""
        return ['max', 'min'] + [f'random{i}' for i in range(self.num_random_samples)]

    def sample_subnet(self, kind: str = 'random') -> Dict[str, Any]:
        """The choices of a 'max', 'min' or 'random' subnet, the same on every rank."""
        subnet = [self.mutator.sample_choices(kind)]
        if kind == 'random':
            broadcast_object_list(subnet, src=0)  # a no-op outside torch.distributed
        return subnet[0]

    def set_subnet(self, kind: str) -> None:
        """Set a 'max', 'min' or 'random' subnet."""
        self.mutator.set_choices(self.sample_subnet(kind))

    def _before_subnet(self, kind: str) -> None:
        """Called once a subnet is set, before it runs (BigNAS sets drop paths)."""

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One optimizer step over the sandwich of subnets (see the class docstring)."""
        counts = optim_wrapper._accumulative_counts
        if counts not in (1, len(self.sample_kinds)):
            raise ValueError(f'{type(self).__name__} steps once per sandwich of '
                             f'{len(self.sample_kinds)} subnets: accumulative_counts must be '
                             f'1 (sum their gradients) or {len(self.sample_kinds)} (average '
                             f'them, as MMRazor configs set), got {counts}')
        data = self.data_preprocessor(data, True)
        log_vars: Dict[str, torch.Tensor] = {}
        for kind in self.sample_kinds:
            self.set_subnet('random' if kind.startswith('random') else kind)
            self._before_subnet(kind)
            with optim_wrapper.optim_context(self):
                if kind == 'max':
                    with self.distiller.teacher_recorders:
                        losses = self.architecture(**data, mode='loss')
                else:  # taught by the max subnet's outputs of this step
                    with self.distiller.student_recorders:
                        self.architecture(**data, mode='tensor')
                    losses = self.distiller.compute_distill_losses()
            loss, subnet_vars = self.parse_losses(losses)
            optim_wrapper.backward(loss / counts)
            log_vars.update(add_prefix(subnet_vars, f'{kind}_subnet'))
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        # the records hold this step's graphs: free them (and keep the model copyable)
        for manager in (self.distiller.teacher_recorders, self.distiller.student_recorders):
            for recorder in manager.recorders.values():
                recorder.reset_data_buffer()
        self.set_subnet('max')
        self._before_subnet('eval')
        return log_vars

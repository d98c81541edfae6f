"""One DDP wrapper for every algorithm, including those with their own ``train_step``.

MMEngine's ``MMDistributedDataParallel.train_step`` synchronises gradients only for a
single ``forward(mode='loss')`` run through DDP. Algorithms that override
``train_step`` (data-free distillation's generator and student phases) call their
submodules directly, so DDP never sees their backward passes.
MMRazor 1.x wrote one ``*DDP`` class per algorithm repeating its ``train_step``;
:class:`AlgorithmDDP` instead averages the gradients of each optimizer right before
it steps, whatever the algorithm does in between.
"""
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Union

import torch
import torch.distributed as dist
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from mmrazor.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class AlgorithmDDP(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that also serves custom ``train_step`` methods.

    A module that keeps :meth:`BaseModel.train_step` trains exactly as with
    ``MMDistributedDataParallel``. Otherwise ``module.train_step(data,
    optim_wrapper)`` runs directly, bypassing ``DDP.forward`` (so DDP's reducer
    expects no gradient hooks), and while it runs every :class:`OptimWrapper` in
    ``optim_wrapper`` averages, over the process group, the gradients of its
    optimizer's parameters right before its real ``step()`` (one coalesced
    ``all_reduce`` per step and gradient dtype/device). Hence gradient accumulation,
    clipping and ``AmpOptimWrapper`` (inf/nan reach every rank, so all ranks skip
    together) see the averaged gradients. Each step also checks that every rank
    has gradients for the same number of parameters (e.g. a branch taken on some
    ranks only) and raises ``RuntimeError`` otherwise.

    Parameters are broadcast from rank 0 when DDP is built. Buffers (BN running
    statistics) are not broadcast in the custom path, as with MMEngine's default
    ``broadcast_buffers=False``; each rank keeps its own. ``detect_anomalous_params``
    only applies to the standard path. On CPU modules ``device_ids`` passed by the
    Runner are dropped by :func:`mmrazor.utils.compat.allow_cpu_distributed`
    (applied on ``import mmrazor.registry``), so gloo training works too.

    Args:
        module (nn.Module): The model (algorithm) to wrap.
        detect_anomalous_params (bool): See ``MMDistributedDataParallel``.
            Defaults to False.
        **kwargs: Arguments of ``torch.nn.parallel.DistributedDataParallel``.

    Examples:
        >>> model_wrapper_cfg = dict(
        ...     type='mmrazor.AlgorithmDDP',
        ...     broadcast_buffers=False,
        ...     find_unused_parameters=False)
    """

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]
                   ) -> Dict[str, torch.Tensor]:
        """Train one step, synchronising gradients across ranks.

        Args:
            data (dict | tuple | list): Data sampled from the dataset.
            optim_wrapper (OptimWrapper | OptimWrapperDict): The optim wrapper(s)
                given to the module's ``train_step``.

        Returns:
            dict: The log variables of the module's ``train_step``.
        """
        if type(self.module).train_step is BaseModel.train_step:
            return super().train_step(data, optim_wrapper)
        with self._sync_before_step(optim_wrapper):
            return self.module.train_step(data, optim_wrapper)

    @contextmanager
    def _sync_before_step(
            self, optim_wrapper: Union[OptimWrapper, OptimWrapperDict]) -> Iterator[None]:
        """Make each wrapper average its gradients before ``step()``, then restore it."""
        wrappers = (list(optim_wrapper.values()) if isinstance(
            optim_wrapper, OptimWrapperDict) else [optim_wrapper])
        shadowed = [vars(wrapper).get('step') for wrapper in wrappers]
        for wrapper in wrappers:
            wrapper.step = self._synced_step(wrapper)
        try:
            yield
        finally:
            for wrapper, step in zip(wrappers, shadowed):
                vars(wrapper).pop('step', None)
                if step is not None:
                    wrapper.step = step

    def _synced_step(self, wrapper: OptimWrapper) -> Callable[..., None]:
        """``wrapper.step`` preceded by averaging its optimizer's gradients."""
        step = wrapper.step

        def synced_step(**kwargs) -> None:
            self._all_reduce_grads(wrapper.optimizer)
            step(**kwargs)

        return synced_step

    def _all_reduce_grads(self, optimizer: torch.optim.Optimizer) -> None:
        """Average the gradients of ``optimizer``'s parameters over the ranks."""
        grads = [param.grad for group in optimizer.param_groups
                 for param in group['params'] if param.grad is not None]
        self._check_same_grads(grads, type(optimizer).__name__)
        world_size = dist.get_world_size(self.process_group)
        buckets: Dict[tuple, List[torch.Tensor]] = defaultdict(list)
        for grad in grads:
            buckets[grad.device, grad.dtype].append(grad)
        for bucket in buckets.values():
            flat = _flatten_dense_tensors(bucket)
            dist.all_reduce(flat, group=self.process_group)
            flat.div_(world_size)
            for grad, synced in zip(bucket, _unflatten_dense_tensors(flat, bucket)):
                grad.copy_(synced)

    def _check_same_grads(self, grads: List[torch.Tensor], optimizer: str) -> None:
        """Raise ``RuntimeError`` unless every rank has as many gradients (and
        elements) as this one; one small ``all_reduce`` of the counts."""
        device = next(self.module.parameters()).device
        count, numel = len(grads), sum(grad.numel() for grad in grads)
        extremes = torch.tensor([count, numel, -count, -numel], device=device)
        dist.all_reduce(extremes, op=dist.ReduceOp.MAX, group=self.process_group)
        most, most_numel, fewest, fewest_numel = extremes.tolist()
        if most != -fewest or most_numel != -fewest_numel:
            raise RuntimeError(
                f'AlgorithmDDP: before a {optimizer} step, rank '
                f'{dist.get_rank(self.process_group)} has gradients for {count} '
                f'parameters ({numel} elements), but the ranks range from {-fewest} to '
                f'{most} parameters ({-fewest_numel} to {most_numel} elements). Every '
                'rank must give gradients to the same parameters in each step, e.g. '
                'sample NAS subnets with the same seed on all ranks.')

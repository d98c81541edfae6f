"""``BaseAlgorithm``: the algorithm layer's base, wrapping an upstream model."""
import functools
from typing import Dict, List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS

LossResults = Dict[str, torch.Tensor]
TensorResults = Union[tuple, torch.Tensor]
PredictResults = List[BaseDataElement]
ForwardResults = Union[LossResults, TensorResults, PredictResults]


def architecture_of(model: nn.Module) -> nn.Module:
    """The upstream model: an algorithm's ``architecture`` (what deploys: no teacher,
    no generator), else ``model`` itself."""
    architecture = getattr(model, 'architecture', None)
    return architecture if isinstance(architecture, nn.Module) else model


def disable_inplace(module: nn.Module) -> None:
    """Turn off every ``inplace=True`` op, so hooks can record the tensors they see."""
    for submodule in module.modules():
        if isinstance(getattr(submodule, 'inplace', None), bool):
            submodule.inplace = False


@MODELS.register_module()
class BaseAlgorithm(BaseModel):
    """An MMEngine model that holds the upstream model as ``architecture``.

    Compression algorithms (the distillation algorithms, so far) subclass it and
    change ``loss`` / ``train_step``; this base runs the architecture unchanged, so a
    plain config can train any upstream model through it.

    Args:
        architecture (dict | nn.Module): The upstream model: a config dict (built by
            mmrazor's MODELS, so ``dict(cfg_path='mmpretrain::resnet/...py',
            pretrained=False)`` and local config paths work) or a built module. It
            must accept ``forward(inputs, data_samples, mode)`` like an MMEngine
            ``BaseModel``.
        data_preprocessor (dict | nn.Module, optional): Defaults to the
            architecture's own ``data_preprocessor`` (shared, not copied).
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
        module_inplace (bool): Keep in-place ops such as ``ReLU(inplace=True)``.
            Defaults to False, because in-place ops overwrite tensors that recorders
            and hooks keep.

    Example:
        >>> model = dict(type='mmrazor.BaseAlgorithm', architecture=dict(
        ...     cfg_path='mmcls::resnet/resnet18_8xb32_in1k.py', pretrained=False))
    """

    def __init__(self,
                 architecture: Union[BaseModel, Dict],
                 data_preprocessor: Optional[Union[Dict, nn.Module]] = None,
                 init_cfg: Optional[Dict] = None,
                 module_inplace: bool = False) -> None:
        if isinstance(architecture, dict):
            architecture = MODELS.build(architecture)
        elif not isinstance(architecture, nn.Module):
            raise TypeError('architecture should be a config dict or an nn.Module '
                            f'(e.g. a BaseModel), but got {type(architecture)}')
        if isinstance(data_preprocessor, dict) and 'type' not in data_preprocessor:
            # MMRazor configs write `data_preprocessor = {}` (or get an upstream config's
            # type-less one merged in): it cannot be built, the architecture's is meant
            data_preprocessor = None
        if data_preprocessor is None:
            data_preprocessor = getattr(architecture, 'data_preprocessor', None)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.architecture = architecture
        self.module_inplace = module_inplace
        if not module_inplace:
            disable_inplace(self.architecture)

    def __init_subclass__(cls, **kwargs) -> None:
        """Mark the runs of a subclass's own ``train_step`` (see :meth:`forward`)."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get('train_step')
        if step is None or getattr(step, 'marks_own_step', False):
            return

        @functools.wraps(step)
        def train_step(self, *args, **kwargs):
            outer = self.__dict__.get('_in_own_train_step', False)
            self.__dict__['_in_own_train_step'] = True
            try:
                return step(self, *args, **kwargs)
            finally:
                self.__dict__['_in_own_train_step'] = outer

        train_step.marks_own_step = True
        cls.train_step = train_step

    def _check_own_train_step_runs(self) -> None:
        """A wrapper that calls ``forward(mode='loss')`` directly (MMEngine's
        ``MMDistributedDataParallel``) would silently skip an algorithm's own
        ``train_step`` (pruning steps, sandwich rules): refuse, and say what to use."""
        if (self.training and type(self).train_step is not BaseModel.train_step
                and not self.__dict__.get('_in_own_train_step', False)
                and dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                f'{type(self).__name__} trains with its own train_step, which '
                'MMDistributedDataParallel skips (it calls forward(mode="loss") '
                "directly). Set model_wrapper_cfg = dict(type='mmrazor.AlgorithmDDP') "
                '(it runs train_step and averages the gradients of every optimizer).')

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = 'tensor') -> ForwardResults:
        """Dispatch to :meth:`loss`, :meth:`_forward` or :meth:`_predict` by ``mode``."""
        if mode == 'loss':
            self._check_own_train_step_runs()
            return self.loss(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        if mode == 'predict':
            return self._predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}" for {type(self).__name__}; the '
                           'valid modes are "loss", "tensor" and "predict".')

    def loss(self, inputs: torch.Tensor,
             data_samples: Optional[List[BaseDataElement]] = None) -> LossResults:
        """Losses of the architecture on a preprocessed batch."""
        return self.architecture(inputs, data_samples, mode='loss')

    def _forward(self, inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None) -> TensorResults:
        """Raw outputs of the architecture, without post-processing."""
        return self.architecture(inputs, data_samples, mode='tensor')

    def _predict(self, inputs: torch.Tensor,
                 data_samples: Optional[List[BaseDataElement]] = None) -> PredictResults:
        """Post-processed predictions of the architecture."""
        return self.architecture(inputs, data_samples, mode='predict')

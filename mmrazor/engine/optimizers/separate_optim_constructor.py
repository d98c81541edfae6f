"""``SeparateOptimWrapperConstructor``: one optimizer per named submodule."""
from typing import Dict

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from mmrazor.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmrazor.utils.lookup import get_module


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SeparateOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` with one optim wrapper per submodule.

    Each key of the config names a submodule of the model (dotted names allowed);
    its value is an ordinary optim-wrapper config for that submodule alone. Used by
    algorithms that step several optimizers (data-free KD: generator and student;
    DARTS: architecture and mutator).

    Example::

        optim_wrapper = dict(
            constructor='mmrazor.SeparateOptimWrapperConstructor',
            architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
            generator=dict(optimizer=dict(type='Adam', lr=1e-3)))

    Args:
        optim_wrapper_cfg (dict): submodule name -> optim wrapper config.
        paramwise_cfg (dict, optional): Must be None: give it per submodule instead.
    """

    def __init__(self, optim_wrapper_cfg: Dict, paramwise_cfg: Dict = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('SeparateOptimWrapperConstructor takes paramwise_cfg inside '
                             'each submodule config, not at the top level')
        if not optim_wrapper_cfg:
            raise ValueError('SeparateOptimWrapperConstructor needs at least one '
                             'submodule config')
        self.optim_wrapper_cfg = optim_wrapper_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise KeyError(f'SeparateOptimWrapperConstructor: the config of submodule '
                               f'{name!r} must be a dict with an "optimizer"')
            cfg = dict(cfg)
            paramwise = cfg.pop('paramwise_cfg', None)
            constructor = DefaultOptimWrapperConstructor(cfg, paramwise)
            wrappers[name] = constructor(get_module(model, name))
        return OptimWrapperDict(**wrappers)

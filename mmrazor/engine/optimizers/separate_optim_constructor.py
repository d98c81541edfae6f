"""``SeparateOptimWrapperConstructor``: one optimizer per named submodule."""
import inspect
from typing import Dict, Set, Tuple

import torch.nn as nn
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper, OptimWrapperDict

from mmrazor.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
from mmrazor.utils.lookup import get_module


def wrapper_arguments(wrapper_type: str) -> Set[str]:
    """The keyword arguments of optim wrapper ``wrapper_type`` (and of
    ``OptimWrapper``, which subclasses pass ``**kwargs`` to), less ``optimizer``."""
    wrapper_cls = OPTIM_WRAPPERS.get(wrapper_type)
    if wrapper_cls is None:
        raise KeyError(f'SeparateOptimWrapperConstructor: optim wrapper type '
                       f'{wrapper_type!r} is not registered, e.g. '
                       "'OptimWrapper' or 'AmpOptimWrapper'")
    names = set()
    for cls in (wrapper_cls, OptimWrapper):
        names |= {name for name, param in inspect.signature(cls.__init__).parameters.items()
                  if param.kind is param.KEYWORD_ONLY or param.kind is
                  param.POSITIONAL_OR_KEYWORD}
    return names - {'self', 'optimizer'}


def split_shared(cfg: Dict) -> Tuple[Dict, Dict]:
    """Split a top-level config into the optim wrapper settings shared by every
    submodule (``type`` and that type's arguments, as ``tools/train.py --amp`` sets
    them) and the submodule configs."""
    shared_names = {'type'} | wrapper_arguments(cfg.get('type', 'OptimWrapper'))
    shared = {key: value for key, value in cfg.items() if key in shared_names}
    submodules = {key: value for key, value in cfg.items() if key not in shared_names}
    return shared, submodules


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SeparateOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` with one optim wrapper per submodule.

    Each key of the config names a submodule of the model (dotted names allowed);
    its value is an ordinary optim-wrapper config for that submodule alone. Used by
    algorithms that step several optimizers (data-free KD: generator and student). A
    top-level ``type`` and the arguments of that optim wrapper type (e.g.
    ``loss_scale``, ``clip_grad``) apply to every submodule that does not set its
    own (a submodule with its own ``type`` takes those its type accepts):
    ``tools/train.py --amp`` sets ``type='AmpOptimWrapper'`` there, and every
    submodule then trains with AMP.

    Example::

        optim_wrapper = dict(
            constructor='mmrazor.SeparateOptimWrapperConstructor',
            architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
            generator=dict(optimizer=dict(type='Adam', lr=1e-3)))

    Args:
        optim_wrapper_cfg (dict): submodule name -> optim wrapper config, and the
            optim wrapper settings shared by all of them.
        paramwise_cfg (dict, optional): Must be None: give it per submodule instead.
    """

    def __init__(self, optim_wrapper_cfg: Dict, paramwise_cfg: Dict = None) -> None:
        if paramwise_cfg is not None:
            raise ValueError('SeparateOptimWrapperConstructor takes paramwise_cfg inside '
                             'each submodule config, not at the top level')
        self.shared_cfg, self.optim_wrapper_cfg = split_shared(dict(optim_wrapper_cfg))
        if not self.optim_wrapper_cfg:
            raise ValueError('SeparateOptimWrapperConstructor needs at least one '
                             'submodule config')

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        wrappers = {}
        for name, cfg in self.optim_wrapper_cfg.items():
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise KeyError(f'SeparateOptimWrapperConstructor: the config of submodule '
                               f'{name!r} must be a dict with an "optimizer"')
            # a submodule that names its own wrapper type takes only the shared settings
            # that type accepts (no AMP loss_scale for a plain OptimWrapper)
            wrapper_type = cfg.get('type', self.shared_cfg.get('type', 'OptimWrapper'))
            accepted = {'type'} | wrapper_arguments(wrapper_type)
            cfg = {**{k: v for k, v in self.shared_cfg.items() if k in accepted}, **cfg}
            paramwise = cfg.pop('paramwise_cfg', None)
            constructor = DefaultOptimWrapperConstructor(cfg, paramwise)
            wrappers[name] = constructor(get_module(model, name))
        return OptimWrapperDict(**wrappers)

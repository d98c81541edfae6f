"""Connectors made of one ``torch.nn.functional`` function or one ``torch.nn`` module."""
import inspect
from functools import partial
from typing import Any, Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS
from mmrazor.utils.lookup import closest_names

from .base_connector import BaseConnector


def _public_functions() -> List[str]:
    """The public functions of ``torch.nn.functional``."""
    return sorted(name for name in dir(F)
                  if not name.startswith('_') and callable(getattr(F, name))
                  and not inspect.isclass(getattr(F, name))
                  and not inspect.ismodule(getattr(F, name)))


def _module_classes() -> List[str]:
    """The ``nn.Module`` subclasses exported by ``torch.nn``."""
    return sorted(name for name in dir(nn) if not name.startswith('_')
                  and inspect.isclass(getattr(nn, name))
                  and issubclass(getattr(nn, name), nn.Module))


def _unknown_name(kind: str, name: str, valid: List[str]) -> ValueError:
    close = closest_names(name, valid)
    hint = f'closest: {", ".join(close)}' if close else f'valid names: {", ".join(valid)}'
    return ValueError(f'{name!r} is not a {kind}; {hint}')


@MODELS.register_module()
class TorchFunctionalConnector(BaseConnector):
    """Applies a ``torch.nn.functional`` function with fixed keyword arguments, e.g.
    ``avg_pool2d`` with ``dict(kernel_size=2)`` to match a teacher's resolution.

    Args:
        function_name (str): The function's name in ``torch.nn.functional``.
        func_args (dict, optional): Keyword arguments bound to the function.
            Defaults to None (no arguments).
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, function_name: str, func_args: Optional[Dict[str, Any]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        functions = _public_functions()
        if function_name not in functions:
            raise _unknown_name('function of torch.nn.functional', function_name,
                                functions)
        self.function_name = function_name
        self.func = partial(getattr(F, function_name), **(func_args or {}))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return ``function(feature, **func_args)``."""
        return self.func(feature)


@MODELS.register_module()
class TorchNNConnector(BaseConnector):
    """Applies a ``torch.nn`` module built from its class name and keyword
    arguments, e.g. ``AdaptiveAvgPool2d`` with ``dict(output_size=1)``.

    Args:
        module_name (str): The module's class name in ``torch.nn``.
        module_args (dict, optional): Keyword arguments of its constructor.
            Defaults to None (no arguments).
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, module_name: str, module_args: Optional[Dict[str, Any]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        modules = _module_classes()
        if module_name not in modules:
            raise _unknown_name('module class of torch.nn', module_name, modules)
        self.torch_module = getattr(nn, module_name)(**(module_args or {}))

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return ``module(feature)``."""
        return self.torch_module(feature)

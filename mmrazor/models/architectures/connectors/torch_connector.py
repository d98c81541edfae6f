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


def _missing_name(owner: str, arg: str, kind: str, example: str) -> ValueError:
    # MMRazor 1.x defaults the name to None; without one there is nothing to apply.
    return ValueError(f'{owner} needs {arg}, the name of a {kind}, e.g. '
                      f'{arg}={example!r}')


@MODELS.register_module()
class TorchFunctionalConnector(BaseConnector):
    """Applies a ``torch.nn.functional`` function with fixed keyword arguments, e.g.
    ``avg_pool2d`` with ``dict(kernel_size=2)`` to match a teacher's resolution.

    Args:
        function_name (str, optional): The function's name in
            ``torch.nn.functional``; required. Defaults to None.
        func_args (dict): Keyword arguments bound to the function. Defaults to {}.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, function_name: Optional[str] = None,
                 func_args: Dict[str, Any] = {},  # noqa: B006
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        functions = _public_functions()
        if function_name is None:
            raise _missing_name('TorchFunctionalConnector', 'function_name',
                                'function of torch.nn.functional', 'avg_pool2d')
        if function_name not in functions:
            raise _unknown_name('function of torch.nn.functional', function_name,
                                functions)
        self.function_name = function_name
        self.func = partial(getattr(F, function_name), **func_args)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return ``function(feature, **func_args)``."""
        return self.func(feature)


@MODELS.register_module()
class TorchNNConnector(BaseConnector):
    """Applies a ``torch.nn`` module built from its class name and keyword
    arguments, e.g. ``AdaptiveAvgPool2d`` with ``dict(output_size=1)``.

    Args:
        module_name (str, optional): The module's class name in ``torch.nn``;
            required. Defaults to None.
        module_args (dict): Keyword arguments of its constructor. Defaults to {}.
        init_cfg (dict, optional): MMEngine weight-init config. Defaults to None.
    """

    def __init__(self, module_name: Optional[str] = None,
                 module_args: Dict[str, Any] = {},  # noqa: B006
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg)
        modules = _module_classes()
        if module_name is None:
            raise _missing_name('TorchNNConnector', 'module_name',
                                'module class of torch.nn', 'AvgPool2d')
        if module_name not in modules:
            raise _unknown_name('module class of torch.nn', module_name, modules)
        self.torch_module = getattr(nn, module_name)(**module_args)

    def forward_train(self, feature: torch.Tensor) -> torch.Tensor:
        """Return ``module(feature)``."""
        return self.torch_module(feature)

"""Register every observer class of ``torch.ao.quantization.observer`` in MODELS.

Configs name them as MMRazor 1.x does, e.g. ``dict(type='mmrazor.MinMaxObserver')``.
The module is walked rather than listed by hand so that observers a new torch adds
are found too.
"""
import inspect
from types import ModuleType
from typing import List

import torch.ao.quantization.observer as torch_observer

from mmrazor.registry import MODELS


def register_torch_classes(module: ModuleType, base: type) -> List[str]:
    """Register in MODELS each public subclass of ``base`` defined in ``module``.

    Aliases (``default_debug_observer = RecordingObserver``) and private names are
    skipped, so every class is registered once, under its own name.

    Args:
        module (ModuleType): The module to walk.
        base (type): Register only subclasses of this class (and itself).

    Returns:
        List[str]: The names that are registered, sorted.
    """
    names = []
    for name, obj in inspect.getmembers(module, inspect.isclass):
        if name.startswith('_') or obj.__name__ != name or not issubclass(obj, base):
            continue
        # Not MODELS.get(): it would import the registry's locations, i.e. this package.
        if name not in MODELS.module_dict:
            MODELS.register_module(module=obj)
        names.append(name)
    return names


def register_torch_observers() -> List[str]:
    """Register torch's observers (MinMaxObserver, HistogramObserver, ...) in MODELS.

    Returns:
        List[str]: The names of the registered observers.
    """
    return register_torch_classes(torch_observer, torch_observer.ObserverBase)


TORCH_OBSERVERS = register_torch_observers()

"""Find modules, parameters and importable objects by name.

This is the one way mmrazor resolves names written in configs (recorder sources,
submodules of optimizers, delivered functions): a typo fails at once, with the
missing name and the closest valid ones in the message.
"""
import difflib
import importlib
import pkgutil
import sys
from types import ModuleType
from typing import Any, Dict, Iterable, List, Tuple

import torch.nn as nn


class NameLookupError(KeyError):
    """A module or parameter name that the model does not have."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class ImportPathError(ImportError):
    """A dotted import path that does not resolve to an object."""


def closest_names(name: str, candidates: Iterable[str], n: int = 5,
                  ignore_case: bool = False, last_component: bool = False) -> List[str]:
    """Return up to ``n`` candidates that look like ``name``.

    This is mmrazor's one "did you mean" helper: module and parameter names, import
    paths, registry types, constructor arguments and config keys all go through it.

    Args:
        name (str): The name that was not found.
        candidates (Iterable[str]): The valid names.
        n (int): The most names to return. Defaults to 5.
        ignore_case (bool): Compare lower-cased names. Defaults to False.
        last_component (bool): Compare only the last dotted components and return
            every candidate whose last component matches, e.g. registry names, where
            ``'ResNet'`` should find ``'mmpretrain.ResNet'`` and
            ``'mmdet.ResNet'``. Defaults to False.

    Returns:
        List[str]: Close matches by ``difflib`` first, then the candidates whose last
        dotted components are ``name`` (``'fc'`` finds ``'head.fc'``).
    """

    def key(text: str) -> str:
        if last_component:
            text = text.rpartition('.')[2]
        return text.lower() if ignore_case else text

    by_key: Dict[str, List[str]] = {}
    for cand in candidates:
        by_key.setdefault(key(cand), []).append(cand)
    target = key(name)
    similar = difflib.get_close_matches(target, list(by_key), n=n, cutoff=0.6)
    suffixed = [k for k in by_key if k.endswith('.' + target)]
    return list(dict.fromkeys(cand for k in similar + suffixed for cand in by_key[k]))[:n]


def _suggestion(name: str, candidates: List[str]) -> str:
    close = closest_names(name, candidates)
    if close:
        return 'closest: ' + ', '.join(close)
    if not candidates:
        return 'there are none'
    return 'no similar name; valid names include: ' + ', '.join(candidates[:5])


def get_module(model: nn.Module, name: str) -> nn.Module:
    """Return the submodule of ``model`` with the dotted name ``name``.

    Args:
        model (nn.Module): The model to search.
        name (str): A name from ``model.named_modules()``, e.g. ``'head.fc'``; ``''``
            is the model itself.

    Returns:
        nn.Module: The submodule.

    Raises:
        NameLookupError: (a ``KeyError``) naming ``name`` and the closest module names.
    """
    try:
        return model.get_submodule(name)
    except AttributeError:
        names = [key for key, _ in model.named_modules() if key]
        raise NameLookupError(f"No module '{name}' in {type(model).__name__}; "
                              f'{_suggestion(name, names)}') from None


def get_parameter(model: nn.Module, name: str) -> nn.Parameter:
    """Return the parameter of ``model`` with the dotted name ``name``.

    Args:
        model (nn.Module): The model to search.
        name (str): A name from ``model.named_parameters()``, e.g. ``'head.fc.weight'``.

    Returns:
        nn.Parameter: The parameter.

    Raises:
        NameLookupError: (a ``KeyError``) naming ``name`` and the closest parameter
            names.
    """
    try:
        return model.get_parameter(name)
    except AttributeError:
        names = [key for key, _ in model.named_parameters()]
        raise NameLookupError(f"No parameter '{name}' in {type(model).__name__}; "
                              f'{_suggestion(name, names)}') from None


def _import_longest_prefix(parts: List[str]) -> int:
    """Import ``parts[:1]``, ``parts[:2]``, ... until one is not a module.

    Only "no module named <that prefix>" ends the search; any other import error is
    a real error of an existing module and propagates.

    Returns:
        int: How many leading parts name a module (0 if not even the first does).
    """
    for depth in range(1, len(parts) + 1):
        prefix = '.'.join(parts[:depth])
        try:
            importlib.import_module(prefix)
        except ModuleNotFoundError as error:
            if error.name != prefix:
                raise
            return depth - 1
    return len(parts)


def _attribute_names(owner: Any) -> List[str]:
    """The attributes of ``owner`` (with a package's submodules), dunders left out."""
    names = {name for name in dir(owner)
             if not (name.startswith('__') and name.endswith('__'))}
    if isinstance(owner, ModuleType) and hasattr(owner, '__path__'):
        names.update(info.name for info in pkgutil.iter_modules(owner.__path__))
    return sorted(names)


def _describe(owner: Any) -> str:
    if isinstance(owner, ModuleType):
        return f"module '{owner.__name__}'"
    if isinstance(owner, type):
        return f"class '{owner.__module__}.{owner.__qualname__}'"
    return f"'{type(owner).__name__}' object"


def import_object(path: str) -> Tuple[Any, str, Any]:
    """Import the object at a dotted path, e.g. ``'torch.nn.functional.relu'``.

    The longest importable module prefix of ``path`` is imported, then the rest is
    looked up with ``getattr``, so the path may end in a module-level object, a class
    attribute or a method (``'mmrazor.models.algorithms.base.BaseAlgorithm.loss'``).

    Args:
        path (str): The dotted path.

    Returns:
        Tuple[Any, str, Any]: ``(owner, attr_name, obj)``: the module or class that
        holds the object, the object's attribute name in it, and the object, so that
        callers can patch ``setattr(owner, attr_name, ...)``.

    Raises:
        ImportPathError: (an ``ImportError``) naming ``path``, the part that failed and
            the closest valid names.
    """
    parts = path.split('.')
    if len(parts) < 2 or not all(parts):
        raise ImportPathError(f"'{path}' is not a dotted path to an object, such as "
                              "'torch.nn.functional.relu'", name=path)
    depth = _import_longest_prefix(parts)
    if depth == 0:
        top_level = {info.name for info in pkgutil.iter_modules()}
        top_level.update(key for key in sys.modules if '.' not in key)
        raise ImportPathError(f"Cannot import '{path}': no module named '{parts[0]}'; "
                              f'{_suggestion(parts[0], sorted(top_level))}', name=path)
    if depth == len(parts):  # the path names a module: its owner is the parent
        return sys.modules['.'.join(parts[:-1])], parts[-1], sys.modules[path]
    obj = sys.modules['.'.join(parts[:depth])]
    for part in parts[depth:]:
        owner = obj
        try:
            obj = getattr(owner, part)
        except AttributeError:
            raise ImportPathError(
                f"Cannot import '{path}': {_describe(owner)} has no attribute "
                f"'{part}'; {_suggestion(part, _attribute_names(owner))}",
                name=path) from None
    return owner, parts[-1], obj


def replace_module(model: nn.Module, name: str, new: nn.Module) -> nn.Module:
    """Put ``new`` in place of the submodule of ``model`` called ``name``.

    Args:
        model (nn.Module): The model to change in place.
        name (str): A dotted name from ``model.named_modules()``, e.g.
            ``'backbone.layer1.0.conv1'``; not ``''`` (a model cannot replace itself).
        new (nn.Module): The module to put there.

    Returns:
        nn.Module: The module that was replaced.

    Raises:
        NameLookupError: (a ``KeyError``) if ``model`` has no module ``name``.
        ValueError: if ``name`` is empty.
    """
    if not name:
        raise ValueError('replace_module needs the dotted name of a submodule; '
                         "'' is the model itself")
    old = get_module(model, name)
    parent_name, _, attr = name.rpartition('.')
    setattr(get_module(model, parent_name), attr, new)
    return old

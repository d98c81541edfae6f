"""Clear errors for unknown ``type`` names and unknown constructor arguments.

MMEngine says only that a name is missing; these errors also name the registry, the
scope that was searched and the closest registered names, so a typo in a config is a
one-line fix.
"""
import inspect
import re
from contextlib import contextmanager
from typing import Iterator, List, Mapping, Optional

from mmengine.registry import Registry

from mmrazor.utils.lookup import closest_names

# The message mmengine's build_from_cfg raises for a missing type.
_MMENGINE_MISSING = re.compile(r"(?P<type>\S+) is not in the (?P<scope>[^:\s]+)::"
                               r'(?P<name>.+?) registry')
_RESERVED_KEYS = ('type', '_scope_')


class UnknownTypeError(KeyError):
    """A config ``type`` that no registry in the searched tree knows."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def _root(registry: Registry) -> Registry:
    while registry.parent is not None:
        registry = registry.parent
    return registry


def _walk(registry: Registry) -> Iterator[Registry]:
    yield registry
    for child in registry.children.values():
        yield from _walk(child)


def registered_names(registry: Registry) -> List[str]:
    """Names reachable from ``registry``: its own and its parents' plain names, and
    every other scope's names written as ``scope.Name``."""
    names = set()
    node: Optional[Registry] = registry
    while node is not None:
        node.import_from_location()
        names.update(node.module_dict)
        node = node.parent
    for other in _walk(_root(registry)):
        if other is not registry and other.scope != registry.scope:
            names.update(f'{other.scope}.{key}' for key in other.module_dict)
    return sorted(names)


def unknown_type_error(obj_type: str, registry: Registry) -> UnknownTypeError:
    """Build the error for ``obj_type`` missing from ``registry`` (already scope-switched)."""
    close = closest_names(obj_type, registered_names(registry), ignore_case=True,
                          last_component=True)
    hint = (f' Closest registered names: {", ".join(close)}.' if close else
            ' No registered name is close to it.')
    return UnknownTypeError(
        f'Unknown type {obj_type!r}: it is not in the "{registry.name}" registry '
        f'of scope "{registry.scope}" (nor in its parents).{hint} A name from '
        'another package needs its scope, e.g. "mmpretrain.ResNet", and a '
        'custom module must be imported (custom_imports) to be registered.')


def check_type(cfg: Mapping, registry: Registry) -> None:
    """Raise :class:`UnknownTypeError` if ``cfg['type']`` names nothing registered."""
    obj_type = cfg.get('type')
    if not isinstance(obj_type, str):
        return
    with registry.switch_scope_and_registry(cfg.get('_scope_')) as scoped:
        if scoped.get(obj_type) is None:
            raise unknown_type_error(obj_type, scoped)


def check_arguments(obj_cls: type, args: Mapping, owner: str = '') -> None:
    """Raise ``TypeError`` naming every key of ``args`` the constructor does not take.

    Classes whose ``__init__`` accepts ``**kwargs`` are not checked.
    """
    if not inspect.isclass(obj_cls) or obj_cls.__init__ is object.__init__:
        return
    params = inspect.signature(obj_cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [p for p in params if p != 'self']
    unknown = [k for k in args if k not in valid and k not in _RESERVED_KEYS]
    if not unknown:
        return
    hints = []
    for key in unknown:
        close = closest_names(key, valid, n=1)
        hints.append(f'{key!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
    where = f' in {owner}' if owner else ''
    raise TypeError(f'{obj_cls.__name__}{where} got unknown argument(s) '
                    f'{", ".join(hints)}. Valid arguments: {", ".join(valid)}.')


@contextmanager
def explain_unknown_types() -> Iterator[None]:
    """Re-raise MMEngine's "X is not in the registry" errors with the closest names.

    Wraps builds that go through MMEngine's own registries (the Runner builds the
    top-level model, datasets and hooks there), where our build functions do not run.
    """
    try:
        yield
    except KeyError as err:
        match = _MMENGINE_MISSING.search(str(err))
        if match is None or isinstance(err, UnknownTypeError):
            raise
        registry = _find_registry(match['name'], match['scope'])
        if registry is None:
            raise
        raise unknown_type_error(match['type'], registry) from err


def _find_registry(name: str, scope: str) -> Optional[Registry]:
    import mmengine.registry as roots
    for root in vars(roots).values():
        if isinstance(root, Registry) and root.parent is None and root.name == name:
            for node in _walk(root):
                if node.scope == scope:
                    return node
    return None

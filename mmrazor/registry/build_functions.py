"""Build functions of the mmrazor registries.

``checked_build_func`` wraps a parent's build function with clear errors for unknown
types and arguments. ``build_razor_model_from_cfg`` adds the two MODELS extras of
MMRazor 1.x configs: ``dict(cfg_path='pkg::path' | 'local/file.py', pretrained=...)``
builds an upstream model from its config file, and ``_return_architecture_=True``
builds an algorithm and returns only its ``architecture``.
"""
import importlib
from typing import Callable, List, Optional

from mmengine.config import Config, ConfigDict
from mmengine.registry import DefaultScope, Registry, build_model_from_cfg

from .suggestions import check_arguments, check_type

BuildFunc = Callable[..., object]
# the default scopes that builds in progress switched away from (innermost last)
_OUTER_SCOPES: List[Optional[str]] = []


def checked_build_func(build_func: BuildFunc) -> BuildFunc:
    """Return ``build_func`` preceded by the type and argument checks."""

    def build(cfg: dict, registry: Registry, default_args: Optional[dict] = None):
        if not isinstance(cfg, (dict, ConfigDict, Config)):
            raise TypeError(f'cfg must be a dict, ConfigDict or Config, got {type(cfg)}')
        if 'type' not in cfg and not (default_args and 'type' in default_args):
            raise KeyError(f'A config for the "{registry.name}" registry must have '
                           f'a "type" key; got keys {sorted(cfg)}')
        cfg = own_scope_fallback(scope_from_type(cfg, registry), registry)
        merged = dict(default_args or {}, **cfg)
        check_type(merged, registry)
        if isinstance(merged['type'], str):
            with registry.switch_scope_and_registry(merged.get('_scope_')) as scoped:
                check_arguments(scoped.get(merged['type']), merged)
        elif isinstance(merged['type'], type):
            check_arguments(merged['type'], merged)
        switches = cfg.get('_scope_') is not None
        if switches:
            current = DefaultScope.get_current_instance()
            _OUTER_SCOPES.append(current.scope_name if current else None)
        try:
            return build_func(cfg, registry=registry, default_args=default_args)
        finally:
            if switches:
                _OUTER_SCOPES.pop()

    build.__name__ = f'checked_{getattr(build_func, "__name__", "build")}'
    return build


def scope_from_type(cfg: dict, registry: Registry) -> dict:
    """``type='mmpretrain.ImageClassifier'`` -> ``_scope_='mmpretrain', type='ImageClassifier'``.

    MMEngine finds a scoped type but builds it in the *current* default scope, so the
    unscoped names the upstream class builds itself (mmpretrain's ImageClassifier
    builds ``'ClsDataPreprocessor'``) are looked up in the wrong package. Building in
    the type's own scope makes them resolve where they are registered.
    """
    obj_type = cfg.get('type')
    if '_scope_' in cfg or not isinstance(obj_type, str) or '.' not in obj_type:
        return cfg
    scope, _, name = obj_type.partition('.')
    root = registry
    while root.parent is not None:
        root = root.parent
    if scope not in root.children:  # a package's registries exist once it is imported
        try:
            importlib.import_module(f'{scope}.registry')
        except ImportError:
            return cfg
    if scope not in root.children:  # not a scope: leave the name to MMEngine
        return cfg
    return dict(cfg, _scope_=scope, type=name)


def own_scope_fallback(cfg: dict, registry: Registry) -> dict:
    """Build an unscoped name in ``registry``'s own scope if the default scope lacks it.

    MMEngine looks unscoped names up in the *default* scope, which the Runner sets from
    the config (e.g. ``'mmpretrain'``). ``mmrazor.registry.MODELS.build(dict(
    type='BaseAlgorithm'))`` must still find mmrazor's class then; names the default
    scope does have (an upstream ``'ImageClassifier'``) keep resolving there first.
    Inside a build that switched scope (``type='mmrazor.SPOS'``), a name neither the
    current scope nor ``registry`` has is looked up in the scopes switched away from.
    """
    obj_type = cfg.get('type')
    if '_scope_' in cfg or not isinstance(obj_type, str) or '.' in obj_type:
        return cfg
    with registry.switch_scope_and_registry(None) as scoped:
        if scoped.get(obj_type) is not None:
            return cfg
    if scoped is not registry and registry.get(obj_type) is not None:
        return dict(cfg, _scope_=registry.scope)
    # an unscoped name inside a scoped build (an ImageClassifier config inside
    # type='mmrazor.SPOS' under default scope mmpretrain) resolves where MMRazor 1.x
    # found it: in the default scope the build switched away from
    root = registry
    while root.parent is not None:
        root = root.parent
    for scope in reversed(_OUTER_SCOPES):
        outer = root.children.get(scope) if scope else None
        if outer is not None and outer.get(obj_type) is not None:
            return dict(cfg, _scope_=scope)
    return cfg


_checked_build_model = checked_build_func(build_model_from_cfg)


def build_razor_model_from_cfg(cfg: dict, registry: Registry,
                               default_args: Optional[dict] = None):
    """MODELS build function: ``cfg_path`` configs, ``_return_architecture_`` and checks."""
    cfg = dict(cfg)
    if 'cfg_path' in cfg and 'type' not in cfg:
        from mmrazor.utils.upstream import build_model_from_cfg_path
        return build_model_from_cfg_path(**cfg)
    return_architecture = cfg.pop('_return_architecture_', False)
    model = _checked_build_model(cfg, registry, default_args)
    if return_architecture:
        if not hasattr(model, 'architecture'):
            raise TypeError(f'_return_architecture_=True needs an algorithm with an '
                            f'"architecture"; {type(model).__name__} has none')
        return model.architecture
    return model

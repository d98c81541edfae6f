"""``CustomTracer``: the one tracer, configured for graphs that are run again.

Quantization runs its traced graphs on every batch, so a graph must not be
specialised to the demo batch: iterating over or taking ``len()`` of a batch of data
samples or of a tensor (the batch dimension) makes the method doing it a leaf, like
the methods named in ``skipped_methods`` (MMRazor's heads' ``_get_loss`` and
``_get_predictions``). Standard ``torch.nn`` layers stay single ``call_module``
nodes, so the quantizer sees ReLUs and pools as modules.
"""
import types
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Type, Union

import torch
import torch.fx as fx
import torch.nn as nn

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import closest_names, import_object

from .fx_tracer import DEFAULT_LEAF_MODULES, FxTracer, MethodLeaf, concrete
from .method_rewrites import method_rewrites

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


class BatchSpecialisation(RuntimeError):
    """Raised while tracing where the graph would depend on the batch size."""


@TASK_UTILS.register_module()
class CustomTracer(FxTracer):
    """Trace a model into a graph that runs on any batch.

    Args:
        skipped_methods (Sequence[str]): Dotted paths of methods recorded as one
            call each, e.g. ``'mmcls.models.heads.ClsHead._get_loss'``; every
            submodule that is an instance of the class is affected.
        skipped_module_names (Sequence[str]): Submodules recorded as one call each.
        skipped_module_classes (Sequence[str | type]): Module classes (or dotted
            paths to them) recorded as one call each.
        max_retries (int): Automatic method leaves allowed. Defaults to 64.
    """

    def __init__(self,
                 skipped_methods: Sequence[str] = (),
                 skipped_module_names: Sequence[str] = (),
                 skipped_module_classes: Sequence[Union[str, Type[nn.Module]]] = (),
                 max_retries: int = 64) -> None:
        classes = tuple(_as_class(cls) for cls in skipped_module_classes)
        super().__init__(leaf_module_types=DEFAULT_LEAF_MODULES + classes,
                         leaf_module_names=tuple(skipped_module_names),
                         max_retries=max_retries)
        self.skipped_methods = [_as_method(path) for path in skipped_methods]

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        standard = (type(m).__module__.startswith('torch.nn.')
                    and not isinstance(m, _CONTAINERS))
        return standard or super().is_leaf_module(m, module_qualified_name)

    def specialise(self, proxy: fx.Proxy, what: str) -> None:
        value = concrete(proxy)
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            raise BatchSpecialisation(f'{what} of a tensor of shape {tuple(value.shape)} '
                                      'would fix its first dimension in the graph')
        if (isinstance(value, (list, tuple)) and value
                and not all(isinstance(item, torch.Tensor) for item in value)):
            raise BatchSpecialisation(f'{what} of a list of {type(value[0]).__name__} '
                                      'would fix the batch size in the graph')

    def trace_with_inputs(self, root: nn.Module, inputs: Dict[str, Any],
                          concrete_args: Optional[Dict[str, Any]] = None) -> fx.Graph:
        names = dict(root.named_modules())
        missing = set(self.leaf_module_names) - set(names)
        if missing:
            name = sorted(missing)[0]
            raise ValueError(f"skipped_module_names: {type(root).__name__} has no submodule "
                             f"'{name}'; close names: {closest_names(name, names)}")
        for owner, method in self.skipped_methods:
            for name, module in names.items():
                if isinstance(module, owner):
                    leaf = MethodLeaf(module, name, method)
                    self._method_leaves[(id(module), method)] = leaf
        return super().trace_with_inputs(root, inputs, concrete_args)

    def method_patches(self, root: nn.Module) -> Dict[Tuple[int, str], Tuple[nn.Module, str,
                                                                             Callable]]:
        """Traceable twins (:mod:`.method_rewrites`) of the upstream methods each
        submodule inherits unchanged, so their layers are in the graph."""
        rewrites = method_rewrites()
        patches = {}
        for module in root.modules():
            for original, twin in rewrites.items():
                method = original.__name__
                if getattr(type(module), method, None) is original:
                    patches[(id(module), method)] = (module, method,
                                                     types.MethodType(twin, module))
        return patches


def _as_class(cls: Union[str, Type[nn.Module]]) -> Type[nn.Module]:
    if isinstance(cls, str):
        cls = import_object(cls)[2]
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise TypeError(f'skipped_module_classes: {cls!r} is not an nn.Module class')
    return cls


def _as_method(path: str) -> Tuple[type, str]:
    owner, name, method = import_object(path)
    if not isinstance(owner, type) or not callable(method):
        raise ValueError(f"skipped_methods: '{path}' is not a method of a class "
                         "(expected 'package.module.Class.method')")
    return owner, name

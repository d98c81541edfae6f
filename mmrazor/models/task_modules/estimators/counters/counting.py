"""The one FLOPs/params counting mechanism: layer counters plus a function watcher.

One forward pass of the model runs with

* a forward hook on every module that has a layer counter (``<ClassName>Counter`` in
  ``TASK_UTILS``, found along the module's MRO); the counter accounts for that module
  and everything inside it;
* a ``TorchFunctionMode`` that counts matmul-type functions (``@``, ``bmm``, ``einsum``,
  ``F.scaled_dot_product_attention``, ...) called where no layer counter is running,
  which is where attention does its matmuls;
* light hooks on every other module, to know which module runs a function and to
  notice leaf layers that no counter knows (counted as 0, named in one warning).

Each cost is credited to the module that incurred it and to every module whose name
contains it.

Parameters are counted from the module tree, each module's active ones
(``active_parameters()``) where it defines them.
"""
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple, Type

import torch
import torch.nn as nn
from torch.overrides import TorchFunctionMode

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import closest_names

from .op_counters import BaseCounter, BaseFunctionCounter, Cost, active_parameters
from .report import FlopsParamsReport

DISABLED = 'disabled'


def registered_counters() -> Dict[str, type]:
    """Every counter class in ``TASK_UTILS`` (layers and functions), by name."""
    TASK_UTILS.import_from_location()
    return {name: cls for name, cls in TASK_UTILS.module_dict.items()
            if isinstance(cls, type) and issubclass(cls, (BaseCounter, BaseFunctionCounter))}


def check_disabled_counters(disabled: Iterable[str]) -> Set[str]:
    """``disabled`` as a set, after checking that each name is a registered counter."""
    disabled = set(disabled or ())
    known = registered_counters()
    for name in disabled:
        if name not in known:
            close = closest_names(name, sorted(known))
            raise KeyError(f'disabled_counters names {name!r}, which is not a registered '
                           f'counter; closest: {", ".join(close) or "none"}')
    return disabled


def lookup_counter(name: str) -> Optional[type]:
    """The class registered as ``name`` in ``TASK_UTILS`` or a parent registry.

    Looked up directly: ``Registry.get`` would try to import a missing name as a module
    path, for every class of every module.
    """
    registry = TASK_UTILS
    while registry is not None:
        if name in registry.module_dict:
            return registry.module_dict[name]
        registry = registry.parent
    return None


def find_counter(module: nn.Module, disabled: Set[str]) -> Optional[object]:
    """The counter class for ``module`` (along its MRO), ``DISABLED`` or None."""
    for cls in type(module).__mro__:
        name = f'{cls.__name__}Counter'
        counter = lookup_counter(name)
        if (isinstance(counter, type) and issubclass(counter, BaseCounter)
                and counter.applies_to(module)):
            return DISABLED if name in disabled else counter
    return None


class _FunctionWatcher(TorchFunctionMode):
    """Counts matmul-type torch functions called outside counted layers."""

    def __init__(self, session: '_CountingSession',
                 table: Dict[Callable, Type[BaseFunctionCounter]]) -> None:
        super().__init__()
        self.session = session
        self.table = table

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        output = func(*args, **kwargs)
        counter = self.table.get(func)
        if counter is not None and self.session.layer_depth == 0:
            self.session.add(counter.count(func, args, kwargs, output),
                             self.session.stack[-1][0] if self.session.stack else '')
        return output


class _CountingSession:
    """Hooks on a model for one counting pass; removed by ``close``."""

    def __init__(self, model: nn.Module, disabled: Set[str]) -> None:
        TASK_UTILS.import_from_location()
        self.model = model
        self.disabled = disabled
        # (name, costs added before it started) of the modules running now, innermost last
        self.stack: List[Tuple[str, int]] = []
        self.attached: Set[int] = set()
        self.layer_depth = 0
        self.events = 0  # costs added so far: tells whether a leaf computed anything
        self.flops: Dict[str, float] = {}
        self.macs: Dict[str, float] = {}
        self.counters: Dict[str, object] = {}
        self.uncounted: Dict[str, List[str]] = {}
        self.handles: List[Any] = []
        self._attach('', model)

    # -- set-up ---------------------------------------------------------------------
    def _attach(self, name: str, module: nn.Module) -> None:
        if id(module) in self.attached:  # a module registered twice is counted under
            return                        # its first name, as named_modules() lists it
        self.attached.add(id(module))
        counter = find_counter(module, self.disabled)
        self.flops[name] = self.macs[name] = 0.0
        if counter is not None:
            self.counters[name] = counter
            self._hook(name, module, self._layer_pre_hook(name), self._layer_hook(name, module))
            if counter is not DISABLED and counter.is_legacy():
                module.__flops__, module.__params__ = 0, 0
            return
        is_leaf = next(module.children(), None) is None
        self._hook(name, module, self._pre_hook(name), self._post_hook(name, module, is_leaf))
        for child_name, child in module.named_children():
            self._attach(f'{name}.{child_name}' if name else child_name, child)

    def _hook(self, name: str, module: nn.Module, pre: Callable, post: Callable) -> None:
        self.handles.append(module.register_forward_pre_hook(pre, with_kwargs=True))
        # no always_call: after an error the stack still ends with the failing module
        self.handles.append(module.register_forward_hook(post, with_kwargs=True))

    # -- hooks ----------------------------------------------------------------------
    def _pre_hook(self, name: str) -> Callable:
        def hook(module, args, kwargs):
            self.stack.append((name, self.events))
        return hook

    def _post_hook(self, name: str, module: nn.Module, is_leaf: bool) -> Callable:
        def hook(module, args, kwargs, output):
            if not self.stack or self.stack[-1][0] != name:
                return
            _, events_at_start = self.stack.pop()
            if is_leaf and self.events == events_at_start:  # a leaf that computed nothing
                names = self.uncounted.setdefault(type(module).__name__, [])
                if name not in names:
                    names.append(name)
        return hook

    def _layer_pre_hook(self, name: str) -> Callable:
        def hook(module, args, kwargs):
            self.stack.append((name, self.events))
            self.layer_depth += 1
        return hook

    def _layer_hook(self, name: str, module: nn.Module) -> Callable:
        counter = self.counters[name]

        def hook(module, args, kwargs, output):
            self.layer_depth -= 1
            if counter is DISABLED:
                cost = Cost()
            elif counter.is_legacy():
                before = module.__flops__
                counter.add_count_hook(module, args, output)
                cost = Cost(0, module.__flops__ - before)
            else:
                cost = counter.count_flops(module, args, kwargs, output)
            self.add(cost, name)
            if self.stack and self.stack[-1][0] == name:
                self.stack.pop()
        return hook

    def add(self, cost: Cost, name: str) -> None:
        """Credit ``cost`` to module ``name`` and the modules that contain it.

        By name, not by call stack: heads are often run as ``head.forward(x)`` and
        ``ModuleList`` s never run, yet their layers' costs belong to them.
        """
        self.events += 1
        total = cost.macs + cost.elementwise
        parts = name.split('.') if name else []
        for depth in range(len(parts) + 1):
            owner = '.'.join(parts[:depth])
            self.flops[owner] += total
            self.macs[owner] += cost.macs

    # -- results --------------------------------------------------------------------
    def params(self) -> Dict[str, int]:
        """Active parameters by module name, each shared tensor counted once."""
        counts: Dict[str, int] = {}
        seen: Set[int] = set()
        alive: List[torch.Tensor] = []

        def walk(name: str, module: nn.Module) -> int:
            # a dynamic container (DynamicSequential) names the children it runs now
            active = getattr(module, 'active_named_children', module.named_children)
            children = sum(walk(f'{name}.{child_name}' if name else child_name, child)
                           for child_name, child in active())
            counter = self.counters.get(name)
            if counter is DISABLED:
                total = 0
            elif counter is not None and counter.is_legacy():
                total = int(module.__dict__.get('__params__', 0))
            elif counter is not None and _overrides_count_params(counter):
                total = counter.count_params(module)
            else:
                tensors = list(active_parameters(module).values())
                alive.extend(tensors)  # sliced copies: a freed one's id could come back
                fresh = [t for t in tensors if id(t) not in seen]
                seen.update(id(t) for t in fresh)
                total = sum(t.numel() for t in fresh) + children
            counts[name] = total
            return total

        walk('', self.model)
        return counts

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()
        for name, counter in self.counters.items():
            module = self.model.get_submodule(name)
            if counter is not DISABLED and counter.is_legacy():
                for attr in ('__flops__', '__params__'):
                    module.__dict__.pop(attr, None)


def _overrides_count_params(counter: Type[BaseCounter]) -> bool:
    return counter.count_params.__func__ is not BaseCounter.count_params.__func__


def function_counter_table(disabled: Set[str]) -> Dict[Callable, Type[BaseFunctionCounter]]:
    """The function -> counter map of the registered, enabled function counters."""
    table: Dict[Callable, Type[BaseFunctionCounter]] = {}
    for name, counter in registered_counters().items():
        if issubclass(counter, BaseFunctionCounter) and name not in disabled:
            for func in counter.functions:
                table[func] = counter
    return table


def describe_input(data: Any) -> str:
    """A short description of a model input for error messages."""
    if isinstance(data, torch.Tensor):
        return f'an input of shape {tuple(data.shape)}'
    if isinstance(data, dict) and isinstance(data.get('inputs'), torch.Tensor):
        return f'inputs of shape {tuple(data["inputs"].shape)}'
    return f'the input {type(data).__name__}'


def run_model(model: nn.Module, data: Any) -> Any:
    """``model(**data)`` for a dict of keyword arguments, else ``model(data)``."""
    return model(**data) if isinstance(data, dict) else model(data)


def count_flops_params(model: nn.Module,
                       data: Any,
                       batch_size: int,
                       disabled_counters: Iterable[str] = ()) -> FlopsParamsReport:
    """Count FLOPs and params of ``model`` in one forward pass on ``data``.

    Args:
        model (nn.Module): The model; it is run as is (call ``eval()`` first for
            inference figures) under ``torch.no_grad``.
        data (Any): A tensor (``model(data)``) or a dict of keyword arguments
            (``model(**data)``), e.g. a demo input.
        batch_size (int): Samples in ``data``; FLOPs are reported per sample.
        disabled_counters (Iterable[str]): Counter names (``'ReLUCounter'``) whose
            layers count as nothing (neither FLOPs nor params).

    Returns:
        FlopsParamsReport: Per-module and total figures.

    Raises:
        ValueError: The model failed on ``data``; the message names the input shape and
            the innermost module that was running.
    """
    disabled = check_disabled_counters(disabled_counters)
    session = _CountingSession(model, disabled)
    try:
        try:
            with torch.no_grad(), _FunctionWatcher(session, function_counter_table(disabled)):
                run_model(model, data)
        except Exception as error:
            where = session.stack[-1][0] if session.stack else ''
            raise ValueError(
                f'{type(model).__name__} cannot take {describe_input(data)}: module '
                f"'{where or '(the model itself)'}' "
                f'({type(model.get_submodule(where)).__name__}) failed with '
                f'{type(error).__name__}: {error}') from error
        params = session.params()
    finally:
        session.close()
    types = {name: type(module).__name__ for name, module in model.named_modules()}
    report = FlopsParamsReport(
        batch_size=batch_size,
        flops={name: value / batch_size for name, value in session.flops.items()},
        macs={name: value / batch_size for name, value in session.macs.items()},
        params=params, types=types, uncounted=session.uncounted)
    warn_uncounted(report.uncounted)
    return report


def warn_uncounted(uncounted: Dict[str, List[str]]) -> None:
    """One warning naming every layer type that ran without a counter."""
    if not uncounted:
        return
    kinds = '; '.join(f'{kind} ({len(names)}: {", ".join(names[:3])}'
                      f'{", ..." if len(names) > 3 else ""})'
                      for kind, names in sorted(uncounted.items()))
    warnings.warn(f'No FLOPs counter for these layer types, counted as 0 FLOPs: {kinds}. '
                  'Register a "<ClassName>Counter" (a BaseCounter) in '
                  'mmrazor.registry.TASK_UTILS to count them.', stacklevel=3)


"""``FxTracer``: torch.fx tracing with concrete values, that never gives up on a model.

Symbolic tracing fails on most real models: padding decided by ``if pad_h > 0``, heads
that loop over feature levels, ``len()`` of a proxy, post-processing that branches on
scores. This tracer runs the model on a real demo input *while* it records the graph:
every node carries its concrete value (``node.meta['value']``), so Python control flow,
``len``, iteration and ``int()`` of a proxy are answered by the real value (the graph is
specialised to that input, like ``torch.export``). What still cannot be recorded
becomes a leaf: a submodule whose ``forward`` fails is one ``call_module`` node, a
failing method (``predict``, ``loss``...) is one ``call_function`` node calling it.
Leaves run for real and are listed in :attr:`FxTracer.auto_leaves` with the reason.
No model-specific skip lists.
"""
import copy
import inspect
import operator
import re
import traceback
import warnings
from typing import Any, Callable, Dict, List, Optional, Set, Tuple, Type

import torch
import torch.fx as fx
import torch.nn as nn
from torch.fx.node import map_aggregate

# Modules always recorded as one node: the layers channel analysis reasons about.
DEFAULT_LEAF_MODULES: Tuple[Type[nn.Module], ...] = (
    nn.modules.conv._ConvNd, nn.Linear, nn.modules.batchnorm._BatchNorm,
    nn.LayerNorm, nn.GroupNorm, nn.modules.instancenorm._InstanceNorm, nn.Embedding,
    nn.MultiheadAttention)


class TraceFailure(RuntimeError):
    """A model whose top-level ``forward`` itself cannot be traced."""


class MethodLeaf:
    """The target of a ``call_function`` node standing for ``module.method(...)``."""

    def __init__(self, module: nn.Module, qualname: str, method: str) -> None:
        self.module = module
        self.qualname = qualname
        self.method = method
        self.__name__ = f'{qualname}.{method}' if qualname else method

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # the class's function: while tracing, the instance attribute is the patch
        return getattr(type(self.module), self.method)(self.module, *args, **kwargs)

    def __repr__(self) -> str:
        return f'MethodLeaf({self.__name__})'


def concrete(value: Any) -> Any:
    """The real value behind a proxy, in containers too; every other object is kept
    as it is (a ``ConfigDict`` stays one, unlike fx's ``map_aggregate``)."""
    if isinstance(value, fx.Proxy):
        return value.node.meta['value']
    if type(value) in (list, tuple):
        return type(value)(concrete(v) for v in value)
    if isinstance(value, tuple) and hasattr(value, '_fields'):  # a namedtuple
        return type(value)(*(concrete(v) for v in value))
    if type(value) is dict:
        return {k: concrete(v) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(concrete(value.start), concrete(value.stop), concrete(value.step))
    return value


def _has_proxy(value: Any) -> bool:
    if isinstance(value, fx.Proxy):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_proxy(v) for v in value)
    if isinstance(value, dict):
        return any(_has_proxy(v) for v in value.values())
    if isinstance(value, slice):
        return any(_has_proxy(v) for v in (value.start, value.stop, value.step))
    return False


def _node_values(value: Any) -> Any:
    return map_aggregate(value, lambda v: v.meta['value'] if isinstance(v, fx.Node) else v)


class _ConcreteMixin:
    """Answer Python's questions about a proxy with its real value."""

    node: fx.Node

    @property
    def _value(self) -> Any:
        return self.node.meta['value']

    def __len__(self) -> int:
        self.tracer.specialise(self, 'len()')
        return len(self._value)

    def __index__(self) -> int:
        return operator.index(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.tracer.create_proxy('call_function', operator.setitem, (self, key, value), {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__') or name == '_value':
            raise AttributeError(name)
        if not hasattr(self._value, name):
            raise AttributeError(f'{type(self._value).__name__!r} object has no '
                                 f'attribute {name!r}')
        return ConcreteAttribute(self, name)


class ConcreteProxy(_ConcreteMixin, fx.Proxy):
    """A proxy whose node holds the real value it stands for."""


class ConcreteAttribute(_ConcreteMixin, fx.proxy.Attribute):
    """``proxy.attr``, created lazily like fx's ``Attribute``."""

    @property
    def _value(self) -> Any:
        return getattr(concrete(self.root), self.attr)


class FxTracer(fx.Tracer):
    """A torch.fx tracer that records a model while running it on real inputs.

    Args:
        leaf_module_types (tuple): Module classes recorded as single nodes. Defaults
            to :data:`DEFAULT_LEAF_MODULES` (conv, linear, norms, embedding,
            attention).
        leaf_module_names (Sequence[str]): Module names always kept as leaves.
        max_retries (int): Method leaves added before giving up. Defaults to 64.
    """

    def __init__(self,
                 leaf_module_types: Tuple[Type[nn.Module], ...] = DEFAULT_LEAF_MODULES,
                 leaf_module_names: Tuple[str, ...] = (),
                 max_retries: int = 64) -> None:
        super().__init__(param_shapes_constant=True)
        self.leaf_module_types = tuple(leaf_module_types)
        self.leaf_module_names: Set[str] = set(leaf_module_names)
        self.max_retries = max_retries
        # module name (or 'module.method') -> why it became a leaf
        self.auto_leaves: Dict[str, str] = {}
        self._method_leaves: Dict[Tuple[int, str], MethodLeaf] = {}
        self._forced_leaves: Set[str] = set()
        self._inputs: Dict[str, Any] = {}
        self._constants: Dict[str, Any] = {}
        self._executing = False
        self._call_args: Optional[Tuple[Tuple, Dict]] = None

    # --- concrete values ----------------------------------------------------------
    def proxy(self, node: fx.Node) -> fx.Proxy:
        return ConcreteProxy(node, self)

    def create_proxy(self, kind: str, target: Any, args: Tuple, kwargs: Dict[str, Any],
                     name: Optional[str] = None, type_expr: Any = None,
                     proxy_factory_fn: Optional[Callable] = None) -> fx.Proxy:
        # the node's args are rebuilt by fx (dicts become immutable_dicts): the real
        # call uses the caller's own objects
        self._call_args = (args, kwargs)
        try:
            return super().create_proxy(kind, target, args, kwargs, name, type_expr,
                                        proxy_factory_fn)
        finally:
            self._call_args = None

    def create_node(self, kind: str, target: Any, args: Tuple, kwargs: Dict[str, Any],
                    name: Optional[str] = None, type_expr: Any = None) -> fx.Node:
        call_args, self._call_args = self._call_args, None
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if kind != 'output':
            self._executing = True  # run for real: fx's patches pass straight through
            try:
                node.meta['value'] = self._run(node, call_args)
            except Exception:
                self.graph.erase_node(node)
                raise
            finally:
                self._executing = False
        return node

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: Dict) -> Any:
        if self._executing:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def _run(self, node: fx.Node, call_args: Optional[Tuple[Tuple, Dict]] = None) -> Any:
        if call_args is not None:
            args, kwargs = concrete(tuple(call_args[0])), concrete(dict(call_args[1]))
        else:
            args, kwargs = _node_values(node.args), _node_values(node.kwargs)
        if node.op == 'placeholder':
            if node.target in self._inputs:
                return self._inputs[node.target]
            # fx guards a constant argument with a placeholder named '<arg>_<n>'
            constant = re.sub(r'_\d+$', '', str(node.target))
            if constant in self._constants:
                return self._constants[constant]
            return args[0] if args else None  # an argument left at its default
        if node.op == 'get_attr':
            value: Any = self.root
            for atom in str(node.target).split('.'):
                value = getattr(value, atom)
            return value
        if node.op == 'call_module':
            return self.root.get_submodule(str(node.target))(*args, **kwargs)
        if node.op == 'call_method':
            return getattr(args[0], str(node.target))(*args[1:], **kwargs)
        return node.target(*args, **kwargs)

    def to_bool(self, obj: fx.Proxy) -> bool:
        return bool(concrete(obj))

    def specialise(self, proxy: fx.Proxy, what: str) -> None:
        """Called before ``what`` (``len()``, iteration) fixes the graph to the
        proxy's real value; subclasses raise to make the caller a leaf instead."""

    def iter(self, obj: fx.Proxy) -> Any:
        self.specialise(obj, 'iteration')
        return iter([obj[i] for i in range(len(concrete(obj)))])

    def keys(self, obj: fx.Proxy) -> Any:
        return concrete(obj).keys()

    def create_arg(self, a: Any) -> Any:
        """Keep Python objects fx has no node type for (data samples, configs) as
        constants: the graph is interpreted, never turned into code."""
        if not _has_proxy(a):
            return a
        try:
            return super().create_arg(a)
        except NotImplementedError:
            return a

    # --- leaves -------------------------------------------------------------------
    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return (isinstance(m, self.leaf_module_types)
                or module_qualified_name in self.leaf_module_names
                or module_qualified_name in self._forced_leaves)

    def call_module(self, m: nn.Module, forward: Callable, args: Tuple,
                    kwargs: Dict[str, Any]) -> Any:
        if self._executing:
            return forward(*args, **kwargs)
        name = self.path_of_module(m)
        if self.is_leaf_module(m, name):
            return super().call_module(m, forward, args, kwargs)
        last_node = self._last_node()
        stack, calls = copy.copy(self.module_stack), dict(self.num_calls)
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception as error:  # noqa: BLE001 - any failure makes the module a leaf
            self._erase_after(last_node)
            self.module_stack, self.num_calls = stack, calls
            self.auto_leaves[name] = _short_reason(error)
            self._forced_leaves.add(name)
            return super().call_module(m, forward, args, kwargs)

    # --- tracing ------------------------------------------------------------------
    def trace_with_inputs(self, root: nn.Module, inputs: Dict[str, Any],
                          concrete_args: Optional[Dict[str, Any]] = None) -> fx.Graph:
        """Trace ``root.forward`` called with ``inputs`` (name -> real value) and the
        constant ``concrete_args``; failing methods of submodules become leaves."""
        self._inputs = dict(inputs)
        self._constants = dict(concrete_args or {})
        for _ in range(self.max_retries):
            # an instance attribute shadows the class's method: twins, then leaves
            patches = self.method_patches(root)
            for leaf in self._method_leaves.values():
                patches[(id(leaf.module), leaf.method)] = (leaf.module, leaf.method,
                                                          self._leaf_caller(leaf))
            try:
                for module, method, function in patches.values():
                    object.__setattr__(module, method, function)
                with warnings.catch_warnings():  # fx cannot guard data samples
                    warnings.simplefilter('ignore')
                    return super().trace(root, concrete_args)
            except Exception as error:  # noqa: BLE001 - inspected below
                leaf = self._method_leaf_for(root, error)
                if leaf is None:
                    raise TraceFailure(
                        f'torch.fx cannot trace {type(root).__name__}.forward itself: '
                        f'{_short_reason(error)}') from error
                self._method_leaves[(id(leaf.module), leaf.method)] = leaf
                self.auto_leaves[leaf.__name__] = _short_reason(error)
            finally:
                for module, method, _ in patches.values():
                    object.__delattr__(module, method)
        raise TraceFailure(f'gave up after {self.max_retries} method leaves: '
                           f'{", ".join(self.auto_leaves)}')

    def method_patches(self, root: nn.Module) -> Dict[Tuple[int, str], Tuple[nn.Module, str,
                                                                             Callable]]:
        """``(id(module), method) -> (module, method, function)`` bound on the
        instances of ``root`` while tracing; none here (subclasses add twins)."""
        return {}

    def _leaf_caller(self, leaf: MethodLeaf) -> Callable:
        def call(*args: Any, **kwargs: Any) -> Any:
            if self._executing:
                return leaf(*args, **kwargs)
            return self.create_proxy('call_function', leaf, args, kwargs)
        return call

    def _method_leaf_for(self, root: nn.Module, error: Exception) -> Optional[MethodLeaf]:
        """The innermost non-``forward`` method of a submodule on the failing stack."""
        names = {id(module): name for name, module in root.named_modules()}
        for frame, _ in reversed(list(traceback.walk_tb(error.__traceback__))):
            owner = frame.f_locals.get('self')
            method = frame.f_code.co_name
            if (isinstance(owner, nn.Module) and id(owner) in names
                    and method != 'forward' and not hasattr(nn.Module, method)
                    and inspect.isfunction(getattr(type(owner), method, None))
                    and (id(owner), method) not in self._method_leaves):
                return MethodLeaf(owner, names[id(owner)], method)
        return None

    def _last_node(self) -> Optional[fx.Node]:
        return next(iter(reversed(self.graph.nodes)), None)

    def _erase_after(self, node: Optional[fx.Node]) -> None:
        """Remove the nodes a failed attempt added (newest first: no users left)."""
        to_erase: List[fx.Node] = []
        for candidate in reversed(self.graph.nodes):
            if candidate is node:
                break
            to_erase.append(candidate)
        for candidate in to_erase:
            self.graph.erase_node(candidate)


# MMRazor 1.x's name for the tracer used with OpenMMLab models
MMFxTracer = FxTracer


def _short_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f'{type(error).__name__}: {text[0] if text else ""}'[:200]


def trace_model(model: nn.Module, inputs: Dict[str, Any],
                concrete_args: Optional[Dict[str, Any]] = None,
                tracer: Optional[FxTracer] = None,
                on_meta: bool = False) -> Tuple[fx.Graph, FxTracer]:
    """Trace ``model`` in eval mode without gradients, on real ``inputs``.

    Returns the graph (each node's ``meta['value']`` is its real value) and the
    tracer, whose ``auto_leaves`` say what could not be recorded.

    With ``on_meta=True`` the tensor inputs, parameters and buffers are swapped for
    ``meta`` tensors while tracing (the model itself is not changed): every value
    then has its exact shape and dtype but no data, and no arithmetic runs. Code
    that reads data (``if x.max() > 0``, ``.item()``, ``nonzero``) raises instead,
    so a meta trace is either the same graph as a real one or an error / leaves;
    callers fall back to a real trace then (see ``ChannelAnalyzer``).
    """
    tracer = tracer or FxTracer()
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if not on_meta:
                return tracer.trace_with_inputs(model, inputs, concrete_args), tracer
            meta_inputs = {k: v.to('meta') if isinstance(v, torch.Tensor) else v
                           for k, v in inputs.items()}
            # parameters stay Parameters: fx records those as get_attr nodes
            meta_state = {f'model.{name}': nn.Parameter(torch.empty_like(p, device='meta'),
                                                        p.requires_grad)
                          for name, p in model.named_parameters(remove_duplicate=False)}
            meta_state.update({f'model.{name}': torch.empty_like(b, device='meta')
                               for name, b in model.named_buffers(remove_duplicate=False)})
            call = _TraceCall(model, tracer, meta_inputs, concrete_args)
            return torch.func.functional_call(call, meta_state, ()), tracer
    finally:
        model.train(training)


class _TraceCall(nn.Module):
    """Runs the trace as its ``forward``, so ``torch.func.functional_call`` can swap
    the model's parameters and buffers for the duration of the trace."""

    def __init__(self, model: nn.Module, tracer: FxTracer, inputs: Dict[str, Any],
                 concrete_args: Optional[Dict[str, Any]]) -> None:
        super().__init__()
        self.model = model
        self._trace = (tracer, inputs, concrete_args)

    def forward(self) -> fx.Graph:
        tracer, inputs, concrete_args = self._trace
        return tracer.trace_with_inputs(self.model, inputs, concrete_args)

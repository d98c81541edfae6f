"""Channel flow: follow every channel through a traced graph, node by node.

Each tensor value carries a :data:`TensorChannels` map ``{dim: element ids}`` for the
dims whose channels come from a prunable layer. Rules per operation say how the ids
move (a permute moves them, a flatten repeats them, a concat joins them), which ids
must be pruned together (an add, a depthwise conv, the chunks of a split) and which
must never be pruned (``freeze``): anything an unknown op touches, literal sizes in a
``view``, the model's outputs. Prunable layers record *ports*: the ids of their input
and output channels. A model parameter read in ``forward`` (a layer scale, a position
embedding) gets fresh ids on each dim and a port per dim: met by a unit's channels in
a way the rules follow (a broadcast add/mul, a concat), it is pruned with them;
anything else freezes those channels like any tensor.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
from torch.fx.node import map_aggregate

from mmrazor.models.architectures.dynamic_ops.bricks.dynamic_torch_attention import (
    DynamicTorchMultiheadAttention,
)
from mmrazor.models.architectures.dynamic_ops.dynamic_layer_norm_2d import (
    CHANNELS_FIRST_LAYER_NORMS,
)
from mmrazor.models.architectures.dynamic_ops.size_attributes import size_rule, size_values

from .channel_elements import ChannelElements

TensorChannels = Dict[int, np.ndarray]


@dataclass
class Port:
    """The channels of one side (input or output) of one prunable layer call."""

    module_name: str
    is_output: bool
    ids: np.ndarray
    order: int  # position of the layer's first call in the graph
    dim: Optional[int] = None  # a parameter port: the parameter's dim


@dataclass
class ChannelFlow:
    """The result of following the channels through a graph."""

    elements: ChannelElements
    ports: Dict[Tuple[str, bool], Port] = field(default_factory=dict)
    modules: Dict[str, nn.Module] = field(default_factory=dict)

    def add_port(self, name: str, module: nn.Module, is_output: bool,
                 ids: np.ndarray) -> None:
        key = (name, is_output)
        port = self.ports.get(key)
        if port is None:
            self.ports[key] = Port(name, is_output, ids, len(self.ports))
            self.modules[name] = module
        else:  # a shared layer: every call uses the same channels
            self.elements.union(port.ids, ids)

    def add_param_port(self, name: str, dim: int, ids: np.ndarray) -> None:
        """A parameter's dim ``dim`` (key ``(name, False, dim)``): read, never produced."""
        key = (name, False, dim)
        port = self.ports.get(key)
        if port is None:
            self.ports[key] = Port(name, False, ids, len(self.ports), dim)
        else:  # read again: the same channels
            self.elements.union(port.ids, ids)


@dataclass
class SizeInfo:
    """An int read from channel dims (``c = x.shape[1]``): using it as a size
    anywhere but where the same channels stay freezes them."""

    sources: List[np.ndarray]
    derived: bool = False  # computed from a size (``c // 2``), not the size itself


@dataclass
class ShapeInfo:
    """``x.shape``: the channel ids of each dim (None for untracked dims)."""

    dims: List[Optional[np.ndarray]]


def _is_depthwise(conv: nn.modules.conv._ConvNd) -> bool:
    return conv.groups == conv.in_channels == conv.out_channels


def _own_forward(module: nn.Module) -> bool:
    """A subclass of a torch layer with its own ``forward`` (a channels-first
    LayerNorm2d): which dim it computes over is unknown."""
    base = next(c for c in type(module).__mro__ if c.__module__.startswith('torch.nn'))
    return type(module).forward is not base.forward


def prunable(module: nn.Module) -> bool:
    """Whether mmrazor has a dynamic op for this layer (so its channels can go)."""
    if isinstance(module, nn.Conv2d):
        # a grouped conv prunes alike in every group; a depthwise conv with a channel
        # multiplier (out = k * in) would have to drop whole groups: kept
        return module.groups == 1 or _is_depthwise(module) or \
            module.groups < module.in_channels
    if isinstance(module, nn.LayerNorm):
        return len(module.normalized_shape) == 1
    if isinstance(module, nn.Embedding):
        return type(module) is nn.Embedding and module.max_norm is None
    if isinstance(module, nn.MultiheadAttention):  # the packed, plain form
        return type(module) is nn.MultiheadAttention and \
            DynamicTorchMultiheadAttention.is_convertible(module)
    # a group norm keeps its channels per group: units round their widths to it
    return isinstance(module, (nn.Linear, nn.modules.batchnorm._BatchNorm, nn.GroupNorm))


# --- the rules -------------------------------------------------------------------
POINTWISE = {
    'add', 'iadd', 'sub', 'isub', 'mul', 'imul', 'truediv', 'itruediv', 'div', 'floordiv',
    'rsub', 'radd', 'rmul', 'pow', 'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'sigmoid',
    'tanh', 'relu', 'relu6', 'gelu', 'silu', 'mish', 'elu', 'selu', 'celu', 'softplus',
    'hardswish', 'hardsigmoid', 'hardtanh', 'leaky_relu', 'prelu', 'erf', 'sin', 'cos',
    'square', 'reciprocal', 'clamp', 'clip', 'clamp_min', 'clamp_max', 'maximum',
    'minimum', 'where', 'dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout',
    'contiguous', 'clone', 'float', 'half', 'double', 'to', 'type', 'type_as', 'detach',
    'softmax', 'log_softmax', 'normalize', 'sign', 'floor', 'ceil', 'round', 'logsigmoid',
    'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'masked_fill', 'lerp', 'addcmul', 'addcdiv',
    'sub_', 'glu_like', 'zeros_like', 'ones_like', 'empty_like', 'rand_like', 'randn_like',
    'full_like', 'sigmoid_', 'relu_', 'nan_to_num', 'logit', 'expm1', 'log1p', 'fill_',
    'zero_', 'bitwise_and', 'bitwise_or', 'logical_and', 'logical_or', 'logical_not',
    'and_', 'or_', 'invert', 'not_', 'mod', 'remainder', 'fmod', 'atan', 'hardshrink',
    'softsign', 'tanhshrink', 'threshold', 'gelu_', 'silu_', 'softmin', 'requires_grad_',
    'stochastic_depth', 'drop_path'}
SPATIAL = {
    'max_pool1d', 'max_pool2d', 'max_pool3d', 'avg_pool1d', 'avg_pool2d', 'avg_pool3d',
    'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_avg_pool3d',
    'adaptive_max_pool1d', 'adaptive_max_pool2d', 'adaptive_max_pool3d', 'interpolate',
    'upsample', 'upsample_nearest', 'upsample_bilinear', 'pad', 'lp_pool2d', 'roll',
    'grid_sample'}
REDUCTIONS = {'mean', 'sum', 'amax', 'amin', 'std', 'var', 'prod', 'logsumexp', 'norm',
              'max', 'min', 'argmax', 'argmin', 'all', 'any', 'nansum', 'nanmean'}
SHAPE_QUERIES = {'size', 'dim', 'numel', 'getattr', 'ndimension', 'nelement', 'stride',
                 'is_contiguous', 'data_ptr', 'element_size', 'get_device', 'tolist',
                 'item', 'len', 'is_floating_point'}
# ops that only read a tensor's dtype/device to make a new, unrelated one
CREATORS = {'new_zeros', 'new_ones', 'new_empty', 'new_full', 'new_tensor', 'zeros', 'ones',
            'empty', 'full', 'arange', 'tensor', 'linspace', 'as_tensor', 'rand', 'randn'}
RESHAPES = {'view', 'reshape', 'flatten', 'unflatten', 'squeeze', 'unsqueeze',
            'view_as', 'reshape_as'}
PASS_MODULES = (
    nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid,
    nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.Mish, nn.Softplus, nn.Hardtanh, nn.Softmax,
    nn.LogSoftmax, nn.Identity, nn.modules.dropout._DropoutNd, nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.modules.pooling._AdaptiveMaxPoolNd, nn.Upsample, nn.ZeroPad2d, nn.ConstantPad2d,
    nn.ReflectionPad2d, nn.ReplicationPad2d)


def op_name(node: fx.Node) -> str:
    """A node's operation as one name: ``'add'`` for ``+``, ``torch.add`` and
    ``x.add``; in-place methods share their out-of-place rule."""
    if node.op == 'call_method':
        name = str(node.target)
    else:
        name = getattr(node.target, '__name__', str(node.target))
    if name.endswith('_') and not name.endswith('__') and name not in POINTWISE:
        name = name[:-1]
    return name.strip('_') if name.startswith('__') else name


def _dim(dim: int, ndim: int) -> int:
    return dim + ndim if dim < 0 else dim


def _merged_into(in_shape: List[int], out_shape: List[int], dim: int
                 ) -> Optional[Tuple[int, int, int]]:
    """(out dim, leading copies, repeats) when input dim ``dim`` lies whole inside one
    output dim, merged with ``leading`` slices before it and ``repeats`` after it."""
    before, size = int(np.prod(in_shape[:dim])), in_shape[dim]
    after = int(np.prod(in_shape[dim + 1:]))
    prefix = 1
    for target, out_size in enumerate(out_shape):
        if before % prefix == 0:
            lead = before // prefix
            repeat, rest = divmod(out_size, lead * size) if size else (0, 1)
            if not rest and repeat >= 1 and after % repeat == 0 and \
                    int(np.prod(out_shape[target + 1:])) * repeat == after:
                return target, lead, repeat
        prefix *= out_size
        if prefix > before:
            return None
    return None


def _split_last(in_shape: List[int], out_shape: List[int], dim: int) -> Optional[int]:
    """The last output dim when input dim ``dim`` is split exactly into several."""
    before, size = int(np.prod(in_shape[:dim])), in_shape[dim]
    prefixes = np.cumprod([1] + [int(s) for s in out_shape])
    starts = np.nonzero(prefixes == before)[0]
    ends = np.nonzero(prefixes == before * size)[0]
    if not len(starts) or not len(ends) or ends[0] - starts[0] < 2:
        return None
    last = int(ends[0]) - 1  # the last dim of size > 1 (trailing 1s follow it)
    if int(np.prod(out_shape[last + 1:])) != int(np.prod(in_shape[dim + 1:])):
        return None
    return last


class ChannelPropagator:
    """Run the rules over a graph traced by :class:`FxTracer` (values in
    ``node.meta['value']``) and collect the ports of prunable layers."""

    def __init__(self, root: nn.Module) -> None:
        self.root = root
        self.flow = ChannelFlow(ChannelElements())
        self.infos: Dict[fx.Node, Any] = {}
        self.hidden_layers: Dict[str, List[str]] = {}
        # (channel ids read as a size, the ids it may size or None, the op using it)
        self.size_uses: List[Tuple[np.ndarray, Optional[np.ndarray], str]] = []

    @property
    def elements(self) -> ChannelElements:
        return self.flow.elements

    # --- helpers ------------------------------------------------------------------
    def info(self, arg: Any) -> Any:
        """The channel structure of an argument (mirrors its value)."""
        return map_aggregate(arg, lambda a: self.infos.get(a) if isinstance(a, fx.Node)
                             else None)

    @staticmethod
    def value(arg: Any) -> Any:
        return map_aggregate(arg, lambda a: a.meta.get('value')
                             if isinstance(a, fx.Node) else a)

    def freeze_all(self, info: Any, reason: str) -> None:
        if isinstance(info, dict) and all(isinstance(k, int) for k in info):
            for ids in info.values():
                self.elements.freeze(ids, reason)
        elif isinstance(info, (list, tuple)):
            for item in info:
                self.freeze_all(item, reason)
        elif isinstance(info, dict):
            for item in info.values():
                self.freeze_all(item, reason)

    def unknown(self, node: fx.Node, reason: str) -> None:
        """Freeze whatever channels reach an op mmrazor cannot prune through."""
        self.freeze_all(self.info((node.args, node.kwargs)), reason)

    def merge(self, out_shape: Sequence[int], operands: Sequence[Tuple[torch.Tensor, Any]],
              reason: str) -> TensorChannels:
        """Broadcasting: channels meeting in one output dim are pruned together; a
        full-size operand without channel ids (a parameter, an input) freezes them."""
        ndim = len(out_shape)
        result: TensorChannels = {}
        for dim in range(ndim):
            ids_list, blocked = [], False
            for tensor, info in operands:
                offset = ndim - tensor.dim()
                own = dim - offset
                if own < 0 or tensor.shape[own] == 1 and out_shape[dim] != 1:
                    continue
                ids = (info or {}).get(own)
                if ids is None:
                    blocked = blocked or out_shape[dim] > 1
                elif len(ids) != out_shape[dim]:
                    self.elements.freeze(ids, reason)
                    blocked = True
                else:
                    ids_list.append(ids)
            if not ids_list:
                continue
            if blocked:
                for ids in ids_list:
                    self.elements.freeze(ids, f'{reason}: meets channels it cannot prune')
                continue
            for ids in ids_list[1:]:
                self.elements.union(ids_list[0], ids)
            result[dim] = ids_list[0]
        return result

    # --- the pass -----------------------------------------------------------------
    def run(self, graph: fx.Graph) -> ChannelFlow:
        for node in graph.nodes:
            if node.op == 'get_attr':
                self.infos[node] = self.get_attr(node)
            elif node.op == 'placeholder':
                self.infos[node] = None
            elif node.op == 'output':
                self.freeze_all(self.info(node.args), 'model output')
            elif node.op == 'call_module':
                self.infos[node] = self.call_module(node)
                self._consume_sizes(node)
            else:
                self.infos[node] = self.call_function(node)
                self._consume_sizes(node)
        self._check_size_uses()
        return self.flow

    def get_attr(self, node: fx.Node) -> Optional[TensorChannels]:
        """A parameter of a non-prunable module: fresh channel ids on each dim, so it
        can join the units it meets (a prunable layer's own weights are its ports)."""
        name = str(node.target)
        owner_name, _, attr = name.rpartition('.')
        try:
            owner = self.root.get_submodule(owner_name)
        except AttributeError:
            return None
        param = owner._parameters.get(attr)
        if not isinstance(param, nn.Parameter) or not param.is_floating_point() or \
                prunable(owner) or param.dim() == 0:
            return None
        info: TensorChannels = {}
        for dim, size in enumerate(param.shape):
            ids = self.elements.new(int(size))
            self.flow.add_param_port(name, dim, ids)
            info[dim] = ids
        return info

    def _size_args(self, node: fx.Node) -> List[Tuple[Any, Any]]:
        """(argument position or key, size info) of the args read from shapes."""
        found = []
        for position, arg in list(enumerate(node.args)) + list(node.kwargs.items()):
            items = arg if isinstance(arg, (list, tuple)) else [arg]
            for item in items:
                info = self.infos.get(item) if isinstance(item, fx.Node) else None
                if isinstance(info, (SizeInfo, ShapeInfo)):
                    found.append((position, info))
        return found

    def _consume_sizes(self, node: fx.Node) -> None:
        """Channel counts used as sizes: fine where the same channels stay (``view(b,
        c)`` of those channels), else those channels must keep their count."""
        name = op_name(node)
        if name in SHAPE_QUERIES or name == 'getitem' or isinstance(
                self.infos.get(node), (SizeInfo, ShapeInfo)):
            return
        rule = size_rule(self._enclosing_module(node))
        if rule is not None and rule.sizes_follow:
            return  # the module's pruned forward recomputes them (mmpretrain WindowMSA)
        allowed: Dict[int, np.ndarray] = {}
        if name in ('view', 'reshape', 'expand') and isinstance(self.infos.get(node), dict):
            sizes = list(node.args[1:]) if node.op == 'call_method' else [node.args[1]]
            if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
                sizes = list(sizes[0])
            out_info = self.infos[node]
            for position, size in enumerate(sizes):
                info = self.infos.get(size) if isinstance(size, fx.Node) else None
                # a count of those channels, or one computed from it (``c // groups``
                # where a shuffle splits them): it follows them
                if isinstance(info, SizeInfo) and position in out_info and (
                        not info.derived or name != 'expand'):
                    allowed[id(size)] = out_info[position]
        for item in list(node.args) + list(node.kwargs.values()):
            for arg in (item if isinstance(item, (list, tuple)) else [item]):
                info = self.infos.get(arg) if isinstance(arg, fx.Node) else None
                if isinstance(info, ShapeInfo):
                    sources = [ids for ids in info.dims if ids is not None]
                elif isinstance(info, SizeInfo):
                    sources = info.sources
                else:
                    continue
                keep = allowed.get(id(arg))
                self.size_uses.extend((ids, keep, name) for ids in sources)

    def _check_size_uses(self) -> None:
        """After all unions: a channel count may size only its own channels."""
        for ids, keep, name in self.size_uses:
            if keep is not None and len(ids) % len(keep) == 0 and set(
                    self.elements.roots(keep).tolist()) == set(
                    self.elements.roots(ids).tolist()):
                continue
            self.elements.freeze(ids, f'channel count used as a size by {name}')

    def tensor_operands(self, node: fx.Node) -> List[Tuple[torch.Tensor, Any]]:
        operands = []
        for arg in list(node.args) + list(node.kwargs.values()):
            value = self.value(arg)
            if isinstance(value, torch.Tensor):
                operands.append((value, self.info(arg)))
        return operands

    def call_module(self, node: fx.Node) -> Any:
        name = str(node.target)
        module = self.root.get_submodule(name)
        out = node.meta.get('value')
        if type(module) is nn.MultiheadAttention:
            return self._attention(node, name, module)
        if isinstance(module, nn.Embedding):
            return self._embedding(node, name, module)
        x = self.value(node.args[0]) if node.args else None
        x_info = self.info(node.args[0]) if node.args else None
        if not isinstance(x, torch.Tensor) or not isinstance(out, torch.Tensor):
            return self._opaque_module(node, name, module)
        x_info = x_info or {}
        if isinstance(module, nn.modules.conv._ConvNd) and not module.transposed:
            channel_dim = 1 if x.dim() == len(module.kernel_size) + 2 else 0
            return self._layer(name, module, x.shape[channel_dim], x_info.get(channel_dim),
                               module.out_channels, channel_dim,
                               share=_is_depthwise(module), keep={})
        if isinstance(module, nn.Linear):
            last = x.dim() - 1
            keep = {d: ids for d, ids in x_info.items() if d != last}
            return self._layer(name, module, module.in_features, x_info.get(last),
                               module.out_features, last, share=False, keep=keep)
        norm_dim = self._norm_dim(module, x)
        if type(module) in CHANNELS_FIRST_LAYER_NORMS:
            # mmpretrain's LayerNorm2d also normalizes the last dim on request
            layout = self._arg(node, 1, 'data_format', 'channel_first')
            norm_dim = {'channel_first': 1 if x.dim() == 4 else None,
                        'channel_last': x.dim() - 1}.get(layout)
            if norm_dim is None:
                return self._opaque_module(node, name, module)
        elif norm_dim is not None and _own_forward(module):
            return self._opaque_module(node, name, module)
        if norm_dim is not None:
            ids = x_info.get(norm_dim)
            if ids is not None:
                if prunable(module):
                    self.flow.add_port(name, module, True, ids)
                    self.flow.add_port(name, module, False, ids)
                else:
                    self.elements.freeze(ids, f'{type(module).__name__} is not prunable')
            return dict(x_info)
        if isinstance(module, PASS_MODULES):
            return self.merge(out.shape, [(x, x_info)], type(module).__name__) \
                if out.shape == x.shape else self._spatial(x, x_info, out)
        if isinstance(module, nn.Flatten):
            return self._reshape(x, x_info, out, literal_dims=set())
        if isinstance(module, nn.Unfold) and x.dim() == 4:
            return self._unfold(x, x_info, out)
        return self._opaque_module(node, name, module)

    @staticmethod
    def _norm_dim(module: nn.Module, x: torch.Tensor) -> Optional[int]:
        if isinstance(module, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
            return 1 if x.dim() > 1 else 0
        if isinstance(module, nn.modules.instancenorm._InstanceNorm):
            return 1 if module.affine or module.track_running_stats else None
        if isinstance(module, nn.LayerNorm):
            return x.dim() - 1
        return None

    def _layer(self, name: str, module: nn.Module, in_size: int, in_ids: Optional[np.ndarray],
               out_size: int, channel_dim: int, share: bool, keep: TensorChannels
               ) -> TensorChannels:
        """A conv or linear: input channels end here, new output channels start."""
        ok = prunable(module)
        reason = None if ok else \
            f'{type(module).__name__} (depthwise with a channel multiplier) is not prunable'
        if in_ids is None:
            in_ids = self.elements.new(
                in_size, frozen='channels from no prunable layer (model input or a frozen op)')
        if share and ok:
            out_ids = in_ids  # depthwise: output channel i is input channel i
        else:
            out_ids = self.elements.new(out_size, frozen=reason)
        groups = getattr(module, 'groups', 1)
        if ok and not share and groups > 1:  # every group keeps the same channels
            self._bind_groups(in_ids, groups)
            self._bind_groups(out_ids, groups)
        if ok:
            self.flow.add_port(name, module, False, in_ids)
            self.flow.add_port(name, module, True, out_ids)
        else:
            self.elements.freeze(in_ids, reason)
        return {**keep, channel_dim: out_ids}

    def _attention(self, node: fx.Node, name: str, module: nn.MultiheadAttention) -> Any:
        """torch's attention (a leaf): query, key and value channels meet the columns
        of the packed in-projection; its rows hold the head dims (the same in q, k and
        v of every head), which ``out_proj`` reads once per head; ``out_proj`` makes
        the output channels."""
        keys = ('query', 'key', 'value')
        args = [node.args[i] if i < len(node.args) else node.kwargs.get(k)
                for i, k in enumerate(keys)]
        tensors = [self.value(a) for a in args]
        out = node.meta.get('value')
        if not prunable(module) or not all(isinstance(t, torch.Tensor) for t in tensors) \
                or not isinstance(out, tuple):
            return self._opaque_module(node, name, module)
        infos = [self.info(a) or {} for a in args]
        others = [a for i, a in enumerate(node.args) if i >= 3] + \
            [v for k, v in node.kwargs.items() if k not in keys]
        self.freeze_all(self.info(others), 'attention mask')
        in_ids = []
        for tensor, info in zip(tensors, infos):
            for dim, ids in info.items():
                if dim != tensor.dim() - 1:  # tokens or batch as channels: kept
                    self.elements.freeze(ids, 'attended over channels')
            in_ids.append(info.get(tensor.dim() - 1))
        if any(ids is None for ids in in_ids):
            for ids in in_ids:
                if ids is not None:
                    self.elements.freeze(ids, 'attention input beside fixed channels')
            in_ids = [self.elements.new(module.embed_dim, frozen='channels from no '
                                        'prunable layer (model input or a frozen op)')]
        for ids in in_ids[1:]:
            self.elements.union(in_ids[0], ids)
        heads = self.elements.new(module.head_dim)
        out_proj = module.out_proj
        out_ids = self.elements.new(out_proj.out_features)
        self.flow.add_port(name, module, False, in_ids[0])
        self.flow.add_port(name, module, True, np.tile(heads, 3 * module.num_heads))
        self.flow.add_port(f'{name}.out_proj', out_proj, False, np.tile(heads, module.num_heads))
        self.flow.add_port(f'{name}.out_proj', out_proj, True, out_ids)
        return ({out[0].dim() - 1: out_ids}, None)

    def _embedding(self, node: fx.Node, name: str, module: nn.Embedding) -> Any:
        """A lookup table: token ids are no channels; the embedding dims are new output
        channels (frozen for a table that renormalizes rows, ``max_norm``)."""
        out = node.meta.get('value')
        if not isinstance(out, torch.Tensor):
            return self._opaque_module(node, name, module)
        self.freeze_all(self.info(node.args), 'embedding lookup index')
        ok = prunable(module)
        out_ids = self.elements.new(module.embedding_dim, frozen=None if ok else
                                    'embedding with max_norm is not prunable')
        if ok:
            self.flow.add_port(name, module, True, out_ids)
        return {out.dim() - 1: out_ids}

    def _window_attention(self, node: fx.Node, x: torch.Tensor, info: TensorChannels,
                          out: torch.Tensor) -> Optional[TensorChannels]:
        """torchvision's Swin attention function, called by its module with the module's
        ``qkv``/``proj`` weights: as torch's attention, with those two layers (their
        module computes with their widths once pruning starts)."""
        module = self._enclosing_module(node)
        weights = node.args[1:3]
        if size_rule(module) is None or not all(
                isinstance(w, fx.Node) and w.op == 'get_attr' for w in weights):
            self.unknown(node, 'shifted_window_attention outside a torchvision Swin block')
            return None
        qkv_name, proj_name = (str(w.target).rpartition('.')[0] for w in weights)
        qkv, proj = self.root.get_submodule(qkv_name), self.root.get_submodule(proj_name)
        last = x.dim() - 1
        for dim, ids in info.items():
            if dim != last:
                self.elements.freeze(ids, 'attended over channels')
        in_ids = info.get(last)
        if in_ids is None:
            in_ids = self.elements.new(qkv.in_features, frozen='channels from no prunable '
                                       'layer (model input or a frozen op)')
        heads = self.elements.new(qkv.out_features // 3 // module.num_heads)
        out_ids = self.elements.new(proj.out_features)
        self.flow.add_port(qkv_name, qkv, False, in_ids)
        self.flow.add_port(qkv_name, qkv, True, np.tile(heads, 3 * module.num_heads))
        self.flow.add_port(proj_name, proj, False, np.tile(heads, module.num_heads))
        self.flow.add_port(proj_name, proj, True, out_ids)
        return {out.dim() - 1: out_ids}

    def _einsum(self, node: fx.Node, out: Any) -> Optional[TensorChannels]:
        """``einsum``: a letter's dims are pruned alike in every operand (contracted
        or kept); the output's dims take the ids of their letters."""
        equation = self.value(node.args[0]) if node.args else None
        operands = list(node.args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
        if not isinstance(equation, str) or '->' not in equation or '...' in equation \
                or not isinstance(out, torch.Tensor):
            self.unknown(node, 'einsum without an explicit output or with ellipsis')
            return None
        inputs, output = equation.replace(' ', '').split('->')
        terms = inputs.split(',')
        values = [self.value(o) for o in operands]
        if len(terms) != len(values) or not all(isinstance(v, torch.Tensor) for v in values):
            self.unknown(node, 'einsum operands')
            return None
        by_letter: Dict[str, List[Optional[np.ndarray]]] = {}
        for term, value, operand in zip(terms, values, operands):
            info = self.info(operand) or {}
            for dim, letter in enumerate(term):
                if value.shape[dim] > 1 or dim in info:
                    by_letter.setdefault(letter, []).append(info.get(dim))
        result: TensorChannels = {}
        for letter, ids_list in by_letter.items():
            tracked = [ids for ids in ids_list if ids is not None]
            if not tracked:
                continue
            if len(tracked) < len(ids_list):
                for ids in tracked:
                    self.elements.freeze(ids, 'einsum with fixed channels')
                continue
            for ids in tracked[1:]:
                self.elements.union(tracked[0], ids)
            if letter in output:
                result[output.index(letter)] = tracked[0]
        return result

    def _unfold_node(self, node: fx.Node, x: torch.Tensor, info: TensorChannels,
                     out: torch.Tensor) -> Optional[TensorChannels]:
        if node.op != 'call_function' or x.dim() != 4:  # Tensor.unfold: sliding windows
            self.unknown(node, 'Tensor.unfold')
            return None
        return self._unfold(x, info, out)

    def _unfold(self, x: torch.Tensor, info: TensorChannels, out: torch.Tensor
                ) -> TensorChannels:
        """``F.unfold`` (N, C, H, W) -> (N, C * kh * kw, L): each channel's kernel
        positions in a row (mmpretrain's patch merging)."""
        for dim, ids in info.items():
            if dim != 1:
                self.elements.freeze(ids, 'unfolded over channels')
        ids = info.get(1)
        if ids is None:
            return {}
        repeat, rest = divmod(out.shape[1], len(ids))
        if rest:
            self.elements.freeze(ids, 'unfolded over channels')
            return {}
        return {1: np.repeat(ids, repeat)}

    def _patch_merging(self, node: fx.Node, x: torch.Tensor, info: TensorChannels,
                       out: torch.Tensor) -> TensorChannels:
        """torchvision Swin's ``_patch_merging_pad`` (a wrapped function): the four
        pixel phases of a 2x2 patch concatenated along the channels."""
        last = x.dim() - 1
        for dim, ids in info.items():
            if dim != last:
                self.elements.freeze(ids, 'patch merging over channels')
        ids = info.get(last)
        if ids is None or out.shape[-1] != 4 * len(ids):
            if ids is not None:
                self.elements.freeze(ids, 'patch merging')
            return {}
        return {last: np.tile(ids, 4)}

    def _bind_groups(self, ids: np.ndarray, groups: int) -> None:
        per_group = len(ids) // groups
        for group in range(1, groups):
            self.elements.union(ids[:per_group], ids[group * per_group:(group + 1) * per_group])

    def _opaque_module(self, node: fx.Node, name: str, module: nn.Module) -> None:
        layers = [f'{name}.{n}' if n else name for n, m in module.named_modules()
                  if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear))]
        if layers:
            self.hidden_layers[name] = layers
        self.unknown(node, f'inside {type(module).__name__} {name!r}')
        return None

    def _spatial(self, x: torch.Tensor, info: TensorChannels, out: torch.Tensor
                 ) -> TensorChannels:
        """Pooling, resizing, padding: channel dims keep their ids if unchanged."""
        result = {}
        for dim, ids in info.items():
            if out.dim() == x.dim() and out.shape[dim] == x.shape[dim]:
                result[dim] = ids
            else:
                self.elements.freeze(ids, 'resized along channels')
        return result

    # --- functions and methods ----------------------------------------------------
    def call_function(self, node: fx.Node) -> Any:
        name = op_name(node)
        out = node.meta.get('value')
        args = node.args
        if name in SHAPE_QUERIES:
            return self._shape_query(node, name)
        if name in CREATORS:
            return None
        if name == 'getitem':
            return self._getitem(node)
        if name == 'setitem':
            self.unknown(node, 'in-place item assignment')
            return None
        if name == 'einsum':
            return self._einsum(node, out)
        if isinstance(out, (int, float)) and not isinstance(out, bool):
            sources = [src for _, info in self._size_args(node) for src in (
                info.sources if isinstance(info, SizeInfo) else
                [d for d in info.dims if d is not None])]
            if sources or any(isinstance(self.value(a), torch.Tensor) for a in node.args):
                if any(isinstance(self.value(a), torch.Tensor) for a in node.args):
                    self.unknown(node, f'{name} returns a number')
                return SizeInfo(sources, derived=True) if sources else None
            return None
        if not isinstance(out, (torch.Tensor, list, tuple)):
            self.unknown(node, f'{name} returns {type(out).__name__}')
            return None
        first = self.value(args[0]) if args else None
        first_info = (self.info(args[0]) if args else None) or {}
        rule = self.RULES.get(name)
        if rule is not None and isinstance(first, (torch.Tensor, list, tuple)):
            return rule(self, node, first, first_info, out)
        if name in POINTWISE and isinstance(out, torch.Tensor):
            return self.merge(out.shape, self.tensor_operands(node), name)
        if name in SPATIAL and isinstance(first, torch.Tensor) and isinstance(out,
                                                                               torch.Tensor):
            return self._spatial(first, first_info, out)
        if name in REDUCTIONS and isinstance(first, torch.Tensor):
            return self._reduce(node, first, first_info, out)
        self.unknown(node, f'unknown op {name!r}')
        return None

    def _arg(self, node: fx.Node, index: int, key: str, default: Any = None) -> Any:
        if len(node.args) > index:
            return self.value(node.args[index])
        return self.value(node.kwargs.get(key, default))

    def _shape_query(self, node: fx.Node, name: str) -> Any:
        target = self.value(node.args[0]) if node.args else None
        info = (self.info(node.args[0]) if node.args else None) or {}
        if not isinstance(target, torch.Tensor) or not isinstance(info, dict):
            return None
        if name == 'getattr' and node.args[1] != 'shape':
            return None
        if name == 'size' and (len(node.args) > 1 or 'dim' in node.kwargs):
            dim = _dim(self._arg(node, 1, 'dim'), target.dim())
            return SizeInfo([info[dim]]) if dim in info else None
        if name in ('size', 'getattr'):
            return ShapeInfo([info.get(d) for d in range(target.dim())])
        if name in ('numel', 'nelement') and info:
            return SizeInfo(list(info.values()), derived=True)
        return None

    def _getitem(self, node: fx.Node) -> Any:
        container, index = node.args[0], node.args[1]
        value, info = self.value(container), self.info(container)
        index_value = self.value(index)
        if isinstance(info, ShapeInfo):
            if isinstance(index_value, int):
                ids = info.dims[index_value]
                return SizeInfo([ids]) if ids is not None else None
            if isinstance(index_value, slice):
                return ShapeInfo(info.dims[index_value])
            return None
        if not isinstance(value, torch.Tensor):
            if info is None or isinstance(info, dict) and all(isinstance(k, int)
                                                              for k in info):
                return None
            try:
                return info[index_value]
            except (IndexError, KeyError, TypeError):
                return None
        return self._index_tensor(value, info or {}, index_value, node)

    def _index_tensor(self, x: torch.Tensor, info: TensorChannels, index: Any,
                      node: fx.Node) -> TensorChannels:
        items = index if isinstance(index, tuple) else (index,)
        if any(isinstance(i, (torch.Tensor, list)) or i is True or i is False
               for i in items):
            self.freeze_all(info, 'advanced indexing')
            return {}
        explicit = sum(1 for i in items if i is not None and i is not Ellipsis)
        expanded: List[Any] = []
        for item in items:
            if item is Ellipsis:
                expanded.extend([slice(None)] * (x.dim() - explicit))
            else:
                expanded.append(item)
        expanded.extend([slice(None)] * (x.dim() - sum(1 for i in expanded if i is not None)))
        result: TensorChannels = {}
        in_dim = out_dim = 0
        for item in expanded:
            if item is None:
                out_dim += 1
                continue
            ids = info.get(in_dim)
            if isinstance(item, slice):
                if ids is not None:
                    if item == slice(None) or slice(*item.indices(x.shape[in_dim])) == \
                            slice(0, x.shape[in_dim], 1):
                        result[out_dim] = ids
                    else:
                        self.elements.freeze(ids, 'sliced along channels')
                out_dim += 1
            elif ids is not None:  # an int drops the dim
                self.elements.freeze(ids, 'one channel selected')
            in_dim += 1
        return result

    def _reduce(self, node: fx.Node, x: torch.Tensor, info: TensorChannels, out: Any
                ) -> Any:
        dims = self._arg(node, 1, 'dim')
        keepdim = bool(self._arg(node, 2, 'keepdim', False))
        if dims is None:
            return None if not isinstance(out, tuple) else (None, None)
        dims = {_dim(d, x.dim()) for d in (dims if isinstance(dims, (list, tuple))
                                            else [dims])}
        result = {}
        for dim, ids in info.items():
            if dim in dims:
                continue
            result[dim if keepdim else dim - sum(1 for d in dims if d < dim)] = ids
        return (result, dict(result)) if isinstance(out, tuple) else result

    def _cat(self, node: fx.Node, first: Any, info: Any, out: torch.Tensor) -> Any:
        tensors = list(first)
        infos = list(self.info(node.args[0]) or [None] * len(tensors))
        dim = _dim(self._arg(node, 1, 'dim', 0), out.dim())
        result: TensorChannels = {}
        for d in range(out.dim()):
            if d != dim:
                merged = self.merge(out.shape, [(t, {d: i[d]} if i and d in i else {})
                                                for t, i in zip(tensors, infos)], 'cat')
                if d in merged:
                    result[d] = merged[d]
                continue
            parts = [(i or {}).get(d) for i in infos]
            if all(p is not None for p in parts):
                result[d] = np.concatenate(parts)
            else:
                for part in parts:
                    if part is not None:
                        self.elements.freeze(part, 'concatenated with fixed channels')
        return result

    def _stack(self, node: fx.Node, first: Any, info: Any, out: torch.Tensor) -> Any:
        tensors = list(first)
        infos = list(self.info(node.args[0]) or [None] * len(tensors))
        dim = _dim(self._arg(node, 1, 'dim', 0), out.dim())
        shape = list(out.shape[:dim]) + list(out.shape[dim + 1:])
        merged = self.merge(shape, [(t, i or {}) for t, i in zip(tensors, infos)], 'stack')
        return {d + (d >= dim): ids for d, ids in merged.items()}

    def _chunk(self, node: fx.Node, x: torch.Tensor, info: TensorChannels, out: Any) -> Any:
        """chunk/split/unbind: along a channel dim the pieces are pruned alike."""
        name = op_name(node)
        if name == 'unbind':
            dim, literal = _dim(self._arg(node, 1, 'dim', 0), x.dim()), False
        else:
            dim = _dim(self._arg(node, 2, 'dim', 0), x.dim())
            size_arg = node.args[1] if len(node.args) > 1 else node.kwargs.get(
                'chunks', node.kwargs.get('split_size_or_sections',
                                          node.kwargs.get('split_size')))
            literal = name != 'chunk' and not isinstance(size_arg, fx.Node)
        pieces = []
        ids = info.get(dim)
        sizes = [piece.shape[dim] if piece.dim() == x.dim() else 1 for piece in out]
        if ids is not None and (literal or name == 'unbind' or len(set(sizes)) > 1):
            self.elements.freeze(ids, f'{name} with fixed sizes along channels')
            ids = None
        start = 0
        for size in sizes:
            piece_info = {d: i for d, i in info.items() if d != dim}
            if ids is not None:
                piece_info[dim] = ids[start:start + size]
                if start:
                    self.elements.union(ids[:size], piece_info[dim])
            if name == 'unbind':
                piece_info = {d - (d > dim): i for d, i in piece_info.items()}
            pieces.append(piece_info)
            start += size
        return type(out)(pieces)

    def _permute(self, node: fx.Node, x: torch.Tensor, info: TensorChannels, out: Any
                 ) -> TensorChannels:
        name = op_name(node)
        if name in ('transpose', 'swapaxes', 'swapdims'):
            a, b = (_dim(self._arg(node, i, k), x.dim()) for i, k in ((1, 'dim0'), (2, 'dim1')))
            order = list(range(x.dim()))
            order[a], order[b] = order[b], order[a]
        elif name == 't':
            order = list(reversed(range(x.dim())))
        else:
            dims = node.args[1:] if node.op == 'call_method' else node.args[1]
            dims = self.value(dims)
            if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
                dims = dims[0]
            order = [_dim(int(d), x.dim()) for d in dims]
        return {order.index(d): ids for d, ids in info.items()}

    def _enclosing_module(self, node: fx.Node) -> Optional[nn.Module]:
        """The module whose ``forward`` made ``node``."""
        stack = node.meta.get('nn_module_stack') or {}
        if not stack:
            return self.root
        key, value = list(stack.items())[-1]
        path = value[0] if isinstance(value, tuple) else key
        try:
            return self.root.get_submodule(str(path))
        except AttributeError:
            return None

    def _reshape_node(self, node: fx.Node, x: torch.Tensor, info: TensorChannels,
                      out: torch.Tensor) -> TensorChannels:
        """Literal sizes freeze the channels landing on them, except the values of the
        enclosing module's size attributes (``head_dims``): those follow the widths."""
        literal_dims = set()
        if op_name(node) in ('view', 'reshape', 'unflatten'):
            if op_name(node) == 'unflatten':
                dim = _dim(self._arg(node, 1, 'dim'), x.dim())
                sizes = list(self._arg(node, 2, 'sizes'))
                offset = dim
            else:
                sizes = list(node.args[1:]) if node.op == 'call_method' else [node.args[1]]
                if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
                    sizes = list(sizes[0])
                offset = 0
            rule = size_rule(self._enclosing_module(node))
            if rule is not None and rule.sizes_follow:  # its pruned forward uses -1
                sizes = []
            if all(not isinstance(s, (list, tuple)) for s in sizes):
                free = size_values(self._enclosing_module(node))
                literal_dims = {i + offset for i, s in enumerate(sizes)
                                if isinstance(s, int) and s != -1 and s not in free}
        return self._reshape(x, info, out, literal_dims)

    def _reshape(self, x: torch.Tensor, info: TensorChannels, out: torch.Tensor,
                 literal_dims: set) -> TensorChannels:
        """Any reshape. A channel dim that survives keeps its ids; merged with dims
        after it (a flatten) its ids repeat, with dims before it (heads back into one
        dim) they tile. Split into several dims (``(3, heads, head_dims)``, a channel
        shuffle's ``(groups, -1)``), only the last of them keeps channels: the same
        ones in every slice, so its ids are bound across the leading dims, which keep
        their sizes. A channel dim landing on a literal size freezes."""
        in_shape, out_shape = list(x.shape), list(out.shape)
        result: TensorChannels = {}
        for dim in sorted(info):
            ids = info[dim]
            placed = _merged_into(in_shape, out_shape, dim)
            if placed is not None:
                target, lead, repeat = placed
                if target in literal_dims or target in result:
                    self.elements.freeze(ids, 'reshaped across channels')
                    continue
                ids = np.repeat(ids, repeat) if repeat > 1 else ids
                result[target] = np.tile(ids, lead) if lead > 1 else ids
                continue
            last = _split_last(in_shape, out_shape, dim)
            if last is None or last in literal_dims or last in result:
                self.elements.freeze(ids, 'reshaped across channels')
                continue
            rows = ids.reshape(-1, out_shape[last])
            self.elements.union(np.tile(rows[0], len(rows) - 1), rows[1:].reshape(-1))
            result[last] = rows[0]
        return result

    def _expand(self, node: fx.Node, x: torch.Tensor, info: TensorChannels,
                out: torch.Tensor) -> TensorChannels:
        offset = out.dim() - x.dim()
        sizes = list(node.args[1:])
        if len(sizes) == 1 and isinstance(sizes[0], (list, tuple)):
            sizes = list(sizes[0])
        result = {}
        for dim, ids in info.items():
            arg = sizes[dim + offset] if dim + offset < len(sizes) else -1
            literal = isinstance(arg, int) and arg != -1 and op_name(node) == 'expand'
            repeat = op_name(node) == 'repeat' and arg != 1
            if out.shape[dim + offset] != x.shape[dim] or literal or repeat:
                self.elements.freeze(ids, f'{op_name(node)} along channels')
            else:
                result[dim + offset] = ids
        return result

    def _matmul(self, node: fx.Node, a: torch.Tensor, a_info: TensorChannels,
                out: torch.Tensor) -> TensorChannels:
        b = self.value(node.args[1])
        b_info = self.info(node.args[1]) or {}
        if not isinstance(b, torch.Tensor) or a.dim() < 2 or b.dim() < 2:
            self.unknown(node, 'matmul of vectors')
            return {}
        self._pair(a_info.get(a.dim() - 1), b_info.get(b.dim() - 2), 'matmul contraction')
        batch = out.dim() - 2
        batch_operands = [(a[..., 0, 0], {d: i for d, i in a_info.items() if d < a.dim() - 2}),
                          (b[..., 0, 0], {d: i for d, i in b_info.items() if d < b.dim() - 2})]
        result = self.merge(list(out.shape[:batch]), batch_operands, 'matmul batch')
        if a.dim() - 2 in a_info:
            result[out.dim() - 2] = a_info[a.dim() - 2]
        if b.dim() - 1 in b_info:
            result[out.dim() - 1] = b_info[b.dim() - 1]
        return result

    def _pair(self, a: Optional[np.ndarray], b: Optional[np.ndarray], reason: str) -> None:
        """A contracted dim: both sides pruned alike, or neither."""
        if a is not None and b is not None:
            self.elements.union(a, b)
        elif a is not None or b is not None:
            self.elements.freeze(a if a is not None else b, f'{reason} with fixed channels')

    def _sdpa(self, node: fx.Node, q: torch.Tensor, q_info: TensorChannels,
              out: torch.Tensor) -> TensorChannels:
        k, v = self.value(node.args[1]), self.value(node.args[2])
        k_info, v_info = self.info(node.args[1]) or {}, self.info(node.args[2]) or {}
        last = q.dim() - 1
        self._pair(q_info.get(last), k_info.get(k.dim() - 1), 'attention scores')
        batch = [(t[..., 0, 0], {d: i for d, i in inf.items() if d < t.dim() - 2})
                 for t, inf in ((q, q_info), (k, k_info), (v, v_info))]
        result = self.merge(list(out.shape[:-2]), batch, 'attention batch')
        for key, value in node.kwargs.items():
            if key == 'attn_mask':
                self.freeze_all(self.info(value), 'attention mask')
        for arg in node.args[3:4]:
            self.freeze_all(self.info(arg), 'attention mask')
        if q.dim() - 2 in q_info:
            result[out.dim() - 2] = q_info[q.dim() - 2]
        if v.dim() - 1 in v_info:
            result[out.dim() - 1] = v_info[v.dim() - 1]
        return result

    def _like(self, node: fx.Node, x: Any, info: TensorChannels, out: Any) -> Any:
        return dict(info)

    RULES: Dict[str, Callable] = {
        'cat': _cat, 'concat': _cat, 'concatenate': _cat, 'stack': _stack,
        'chunk': _chunk, 'split': _chunk, 'unbind': _chunk,
        'permute': _permute, 'transpose': _permute, 'swapaxes': _permute,
        'swapdims': _permute, 't': _permute,
        'expand': _expand, 'repeat': _expand,
        'matmul': _matmul, 'bmm': _matmul, 'mm': _matmul,
        'scaled_dot_product_attention': _sdpa,
        'shifted_window_attention': _window_attention, '_patch_merging_pad': _patch_merging,
        'unfold': _unfold_node,
        'zeros_like': _like, 'ones_like': _like, 'empty_like': _like, 'full_like': _like,
        'rand_like': _like, 'randn_like': _like,
        **dict.fromkeys(RESHAPES, _reshape_node),
    }


def follow_channels(root: nn.Module, graph: fx.Graph) -> Tuple[ChannelFlow, Dict[str, List[str]]]:
    """Follow the channels through ``graph`` (traced from ``root``); return the flow
    and the opaque leaves that hide conv/linear layers."""
    propagator = ChannelPropagator(root)
    flow = propagator.run(graph)
    return flow, propagator.hidden_layers


__all__ = ['ChannelFlow', 'Port', 'follow_channels', 'prunable', 'op_name']

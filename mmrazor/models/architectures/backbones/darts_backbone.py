"""``DartsBackbone``: the cell-based supernet of DARTS (Liu et al., ICLR 2019).

A cell turns the outputs of the two previous cells into ``num_nodes`` new nodes; node
``n`` sums one mixed op (a ``DiffMutableOP``) per earlier tensor, and which of those
edges it keeps is a ``DiffChoiceRoute``. Edges are aliased ``<cell kind>_n<node>_p<i>``
and routes ``<cell kind>_n<node>`` (e.g. ``normal_n3_p1``, ``reduce_n2``), so all
normal cells (and all reduction cells) share one architecture: the mutator groups
mutables by alias and the subnet YAML is keyed by these aliases, as in MMRazor.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmpretrain.models.backbones.base_backbone import BaseBackbone

from mmrazor.registry import MODELS


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1x1 convs of stride 2, the second shifted by
    one pixel, whose outputs are concatenated (no information is skipped).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (even).
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 norm_cfg: Dict = dict(type='BN')) -> None:  # noqa: B006
        super().__init__()
        self.relu = build_activation_layer(act_cfg)
        self.conv1 = nn.Conv2d(in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.conv2 = nn.Conv2d(in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv1(x), self.conv2(x[:, :, 1:, 1:])], dim=1))


class StandardConv(nn.Module):
    """ReLU, conv (no bias) and norm, in ``self.net``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Kernel size.
        stride (int): Stride. Defaults to 1.
        padding (int): Padding. Defaults to 0.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0,
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 norm_cfg: Dict = dict(type='BN')) -> None:  # noqa: B006
        super().__init__()
        self.net = nn.Sequential(
            build_activation_layer(act_cfg),
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Node(nn.Module):
    """One node of a cell: a route over one mixed op per earlier tensor.

    Args:
        node_id (str): The node's alias, e.g. ``'normal_n2'``; edge ``i`` is
            aliased ``'<node_id>_p<i>'``.
        num_prev_nodes (int): How many tensors precede the node (its edges).
        channels (int): Channels of every edge.
        num_downsample_nodes (int): The first this many edges (the cell inputs of
            a reduction cell) have stride 2.
        mutable_cfg (dict): Config of each edge's mutable op.
        route_cfg (dict): Config of the route.
    """

    def __init__(self, node_id: str, num_prev_nodes: int, channels: int,
                 num_downsample_nodes: int, mutable_cfg: Dict, route_cfg: Dict) -> None:
        super().__init__()
        edges = nn.ModuleDict()
        for i in range(num_prev_nodes):
            edge_id = f'{node_id}_p{i}'
            cfg = copy.deepcopy(mutable_cfg)
            cfg['module_kwargs'] = dict(
                cfg.get('module_kwargs') or {}, in_channels=channels, out_channels=channels,
                stride=2 if i < num_downsample_nodes else 1)
            cfg['alias'] = edge_id
            edges[edge_id] = MODELS.build(cfg)
        self.route = MODELS.build(dict(copy.deepcopy(route_cfg), edges=edges, alias=node_id))

    def forward(self, prev_nodes: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.route(prev_nodes)


class Cell(nn.Module):
    """A DARTS cell: preprocess both inputs to ``channels``, build ``num_nodes``
    nodes, concatenate them.

    Args:
        num_nodes (int): Nodes of the cell.
        channels (int): Channels of each node.
        prev_channels (int): Channels of the previous cell's output.
        prev_prev_channels (int): Channels of the output before that.
        reduction (bool): Halve the resolution (and use the ``reduce_`` aliases).
        prev_reduction (bool): The previous cell halved the resolution, so the
            older input is reduced too.
        mutable_cfg (dict): Config of the edges' mutable ops.
        route_cfg (dict): Config of the nodes' routes.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self, num_nodes: int, channels: int, prev_channels: int,
                 prev_prev_channels: int, reduction: bool, prev_reduction: bool,
                 mutable_cfg: Dict, route_cfg: Dict,
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 norm_cfg: Dict = dict(type='BN')) -> None:  # noqa: B006
        super().__init__()
        self.reduction = reduction
        self.num_nodes = num_nodes
        self.preproc0: nn.Module
        if prev_reduction:  # the older input has twice the resolution of the newer
            self.preproc0 = FactorizedReduce(prev_prev_channels, channels, act_cfg, norm_cfg)
        else:
            self.preproc0 = StandardConv(prev_prev_channels, channels, 1, 1, 0, act_cfg,
                                         norm_cfg)
        self.preproc1 = StandardConv(prev_channels, channels, 1, 1, 0, act_cfg, norm_cfg)
        kind = 'reduce' if reduction else 'normal'
        self.nodes = nn.ModuleList(
            Node(f'{kind}_n{depth}', depth, channels, 2 if reduction else 0, mutable_cfg,
                 route_cfg)
            for depth in range(2, num_nodes + 2))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        tensors = [self.preproc0(s0), self.preproc1(s1)]
        for node in self.nodes:
            tensors.append(node(tensors))
        return torch.cat(tensors[2:], dim=1)


class AuxiliaryModule(nn.Module):
    """The auxiliary tower at 2/3 of the depth (8x8 input: pool to 2x2, conv to 1x1).

    Args:
        in_channels (int): Input channels.
        base_channels (int): Middle channels.
        out_channels (int): Output channels.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
    """

    def __init__(self, in_channels: int, base_channels: int, out_channels: int,
                 norm_cfg: Dict = dict(type='BN')) -> None:  # noqa: B006
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.AvgPool2d(5, stride=2, padding=0, count_include_pad=False),
            nn.Conv2d(in_channels, base_channels, kernel_size=1, bias=False),
            build_norm_layer(norm_cfg, base_channels)[1],
            nn.ReLU(),
            nn.Conv2d(base_channels, out_channels, kernel_size=2, bias=False),
            build_norm_layer(norm_cfg, out_channels)[1],
            nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


@MODELS.register_module()
class DartsBackbone(BaseBackbone):
    """The DARTS supernet (or, once its choices are fixed, a DARTS network).

    A 3x3 conv stem of ``stem_multiplier * base_channels`` channels and
    ``num_layers`` cells; the cells at 1/3 and 2/3 of the depth are reduction
    cells (stride 2, twice the channels). Each cell outputs ``num_nodes`` times its
    channels. With ``auxliary`` (MMRazor's spelling), the auxiliary tower's output
    after cell ``2 * num_layers // 3`` comes first in the outputs while training.

    Args:
        in_channels (int): Input channels.
        base_channels (int): Channels of each node in the first cells.
        mutable_cfg (dict): Config of each edge, e.g. a ``DiffMutableOP`` over the
            DARTS ops; ``module_kwargs`` and ``alias`` are set per edge.
        route_cfg (dict): Config of each node's route, e.g.
            ``dict(type='mmrazor.DiffChoiceRoute', with_arch_param=True)``.
        num_layers (int): Cells. Defaults to 8.
        num_nodes (int): Nodes per cell. Defaults to 4.
        stem_multiplier (int): Stem channels over ``base_channels``. Defaults to 3.
        out_indices (Sequence[int]): Cells whose outputs are returned; the last
            must be the last cell. Defaults to (7, ).
        auxliary (bool): Build the auxiliary tower. Defaults to False.
        aux_channels (int, optional): Middle channels of the tower (required with
            ``auxliary``). Defaults to None.
        aux_out_channels (int, optional): Output channels of the tower (required
            with ``auxliary``). Defaults to None.
        act_cfg (dict): Activation config. Defaults to ``dict(type='ReLU')``.
        norm_cfg (dict): Norm config of the stem, cell preprocessing and tower.
            Defaults to ``dict(type='BN')``.
        init_cfg (dict | list[dict], optional): Weight init config. Defaults to None.

    Examples:
        >>> backbone = DartsBackbone(3, 16, mutable_cfg, route_cfg)
        >>> [f.shape for f in backbone(torch.rand(2, 3, 32, 32))]
        [torch.Size([2, 256, 8, 8])]
    """

    def __init__(self,
                 in_channels: int,
                 base_channels: int,
                 mutable_cfg: Dict,
                 route_cfg: Dict,
                 num_layers: int = 8,
                 num_nodes: int = 4,
                 stem_multiplier: int = 3,
                 out_indices: Sequence[int] = (7, ),
                 auxliary: bool = False,
                 aux_channels: Optional[int] = None,
                 aux_out_channels: Optional[int] = None,
                 act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
                 norm_cfg: Dict = dict(type='BN'),  # noqa: B006
                 init_cfg: Optional[Dict] = None) -> None:
        self._check_args(num_layers, num_nodes, out_indices, auxliary, aux_channels,
                         aux_out_channels)
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_layers = num_layers
        self.num_nodes = num_nodes
        self.stem_multiplier = stem_multiplier
        self.out_indices = tuple(out_indices)
        self.auxliary_indice = 2 * num_layers // 3 if auxliary else -1
        self.act_cfg = act_cfg
        self.norm_cfg = norm_cfg

        stem_channels = stem_multiplier * base_channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 3, 1, 1, bias=False),
            build_norm_layer(norm_cfg, stem_channels)[1])
        # the stem feeds both inputs of the first cell
        prev_prev_channels = prev_channels = stem_channels
        channels = base_channels
        self.cells = nn.ModuleList()
        reduction = False
        for i in range(num_layers):
            prev_reduction = reduction
            reduction = i in (num_layers // 3, 2 * num_layers // 3)
            if reduction:
                channels *= 2
            self.cells.append(Cell(num_nodes, channels, prev_channels, prev_prev_channels,
                                   reduction, prev_reduction, mutable_cfg, route_cfg,
                                   act_cfg, norm_cfg))
            prev_prev_channels, prev_channels = prev_channels, channels * num_nodes
            if i == self.auxliary_indice:
                self.auxliary_module = AuxiliaryModule(prev_channels, aux_channels,
                                                       aux_out_channels, norm_cfg)
        self.out_channels = channels

    @staticmethod
    def _check_args(num_layers: int, num_nodes: int, out_indices: Sequence[int],
                    auxliary: bool, aux_channels: Optional[int],
                    aux_out_channels: Optional[int]) -> None:
        if num_layers < 1 or num_nodes < 1:
            raise ValueError(f'DartsBackbone needs num_layers >= 1 and num_nodes >= 1, got '
                             f'{num_layers} and {num_nodes}')
        if (not out_indices or out_indices[-1] != num_layers - 1
                or any(not 0 <= i < num_layers for i in out_indices)):
            raise ValueError(f'out_indices must be cells in 0..{num_layers - 1}, the last '
                             f'being the last cell {num_layers - 1}; got {tuple(out_indices)}')
        if auxliary and (aux_channels is None or aux_out_channels is None):
            raise ValueError('auxliary=True needs aux_channels and aux_out_channels (the '
                             f'tower\'s widths), got {aux_channels} and {aux_out_channels}')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        outs: List[torch.Tensor] = []
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1)
            if i in self.out_indices:
                outs.append(s1)
            if i == self.auxliary_indice and self.training:
                outs.insert(0, self.auxliary_module(s1))
        return tuple(outs)

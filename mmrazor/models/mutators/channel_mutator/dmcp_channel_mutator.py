"""``DMCPChannelMutator``: channel widths from learnt Markov processes, and the
expected FLOPs they give (DMCP)."""
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import DynamicChannelMixin
from mmrazor.models.mutables import DerivedMutable, DMCPChannelUnit
from mmrazor.registry import MODELS

from .channel_mutator import ChannelMutator

SUBNET_MODES = ('max', 'min', 'random', 'direct', 'expected')


@MODELS.register_module()
class DMCPChannelMutator(ChannelMutator[DMCPChannelUnit]):
    """A channel mutator over ``DMCPChannelUnit``s and their architecture parameters.

    After ``prepare_from_supernet`` every unit has width groups from ``pruning_cfg``
    and one parameter per group transition (they are this mutator's parameters, so a
    ``mutator`` optimizer trains them). Convs and linears record their output sizes
    in each forward, so :meth:`expected_flops` can give the model's FLOPs expected
    under the Markov processes, differentiably.

    Args:
        channel_unit_cfg (dict): As :class:`ChannelMutator`. Defaults to
            ``dict(type='DMCPChannelUnit')``.
        parse_cfg (dict): As :class:`ChannelMutator`.
        pruning_cfg (tuple): ``(min_ratio, max_ratio, step)`` of the width groups.
            Defaults to (0.1, 1, 0.05).
        custom_groups (list, optional): As :class:`ChannelMutator`.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 channel_unit_cfg: Dict = dict(type='DMCPChannelUnit'),  # noqa: B006
                 parse_cfg: Dict = dict(  # noqa: B006
                     _scope_='mmrazor', type='ChannelAnalyzer',
                     demo_input=(1, 3, 224, 224), tracer_type='BackwardTracer'),
                 pruning_cfg: Tuple[float, float, float] = (0.1, 1, 0.05),
                 custom_groups: Optional[List[List[str]]] = None,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(channel_unit_cfg, parse_cfg, custom_groups, init_cfg)
        if not issubclass(self.unit_class, DMCPChannelUnit):
            raise TypeError(f'DMCPChannelMutator needs DMCPChannelUnit units, got '
                            f'{self.unit_class.__name__}')
        if len(pruning_cfg) != 3:
            raise ValueError(f'pruning_cfg is (min_ratio, max_ratio, step), got {pruning_cfg}')
        self.pruning_cfg = tuple(pruning_cfg)
        self._positions: Dict[nn.Module, int] = {}
        self._layers: List[nn.Module] = []

    def prepare_from_supernet(self, supernet: nn.Module) -> None:
        """As the base, then the units' width groups and the output-size hooks."""
        super().prepare_from_supernet(supernet)
        for unit in self.mutable_units:
            unit.prepare_arch(*self.pruning_cfg)
        self._layers = [m for m in supernet.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        for layer in self._layers:
            layer.register_forward_hook(self._record_positions)

    def _record_positions(self, module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        """Output positions per sample and channel (H*W of a conv, tokens of a linear)."""
        channels = output.shape[1] if isinstance(module, nn.Conv2d) else output.shape[-1]
        self._positions[module] = output[0].numel() // channels

    # ---- arch -------------------------------------------------------------------

    def set_arch_train(self, on: bool) -> None:
        """Weight channels by their keep probabilities in forwards (to train the
        architecture parameters) or not."""
        for unit in self.mutable_units:
            unit.arch_train = on

    def sample_subnet(self, mode: str) -> Dict[str, Any]:
        """Choices of every unit: 'max', 'min', 'random' (uniform over the width
        groups), 'direct' (the Markov chains) or 'expected' (the expected widths)."""
        if mode not in SUBNET_MODES:
            raise ValueError(f'mode must be one of {SUBNET_MODES}, got {mode!r}')
        choices = {}
        for unit in self.mutable_units:
            if mode in ('direct', 'expected'):
                choices[unit.name] = unit.sample_arch(mode)
            elif mode == 'random':
                choices[unit.name] = unit.sample_choice()
            else:
                choices[unit.name] = getattr(unit, f'{mode}_choice')
        return choices

    def set_subnet(self, mode: str) -> None:
        """Set the choices :meth:`sample_subnet` gives."""
        self.set_choices(self.sample_subnet(mode))

    # ---- expected FLOPs -----------------------------------------------------------

    def _expected_width(self, module: DynamicChannelMixin, side: str,
                        by_mutable: Dict[int, DMCPChannelUnit]) -> Union[torch.Tensor, float]:
        full = module.channel_sizes[side == 'out_channels']
        container = module.get_mutable_attr(side)
        if container is None:
            return float(full)
        width: Union[torch.Tensor, float] = float(full)
        for (start, end), mutable in container.mutable_channels.items():
            source, scale = mutable, 1.0
            if isinstance(mutable, DerivedMutable) and len(mutable.source_mutables) == 1:
                source = next(iter(mutable.source_mutables))
                scale = (end - start) / source.num_channels
            unit = by_mutable.get(id(source))
            kept = unit.expected_channels() * scale if unit is not None \
                else float(mutable.current_mask.sum())
            width = width - (end - start) + kept
        return width

    def expected_flops(self) -> torch.Tensor:
        """The conv and linear FLOPs (multiply-accumulates, in M) of one sample,
        expected under the units' Markov processes; needs a forward first, which
        records the layers' output sizes."""
        missing = [layer for layer in self._layers if layer not in self._positions]
        if not self._layers or missing:
            raise RuntimeError('DMCPChannelMutator.expected_flops needs a forward of the '
                               'prepared model first (it records the output sizes)')
        by_mutable = {id(unit.mutable_channel): unit for unit in self.mutable_units}
        total: Union[torch.Tensor, float] = 0.0
        for layer in self._layers:
            if isinstance(layer, DynamicChannelMixin):
                out = self._expected_width(layer, 'out_channels', by_mutable)
                inp = self._expected_width(layer, 'in_channels', by_mutable)
            else:
                out = layer.out_channels if isinstance(layer, nn.Conv2d) else layer.out_features
                inp = layer.in_channels if isinstance(layer, nn.Conv2d) else layer.in_features
            per_position = out * inp
            if isinstance(layer, nn.Conv2d):
                kernel = layer.kernel_size[0] * layer.kernel_size[1]
                # a grouped conv reads its own group's inputs: in_channels / groups each
                per_position = out * (layer.in_channels // layer.groups) * kernel \
                    if layer.groups > 1 else per_position * kernel
            total = total + per_position * self._positions[layer]
        return torch.as_tensor(total) / 1e6

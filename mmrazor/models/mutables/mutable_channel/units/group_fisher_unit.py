"""``GroupFisherChannelUnit``: a unit that ranks its channels by Fisher information
(Liu et al., *Group Fisher Pruning for Practical Network Compression*, ICML 2021)."""
import math
from typing import Any, Dict, Iterator, List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn

from mmrazor.models.architectures.dynamic_ops import (
                                                      GroupFisherConv2d,
                                                      GroupFisherLinear,
                                                      GroupFisherMixin,
)
from mmrazor.registry import MODELS

from .channel_unit import Channel
from .l1_mutable_channel_unit import L1MutableChannelUnit
from .mutable_channel_unit import DYNAMIC_OPS

NORMALIZATION_TYPES = ('flops', 'act', 'none')
# Costs are scaled as in MMRazor (GFLOPs, M activations) so logged values compare.
_SCALE = {'flops': 1e9, 'act': 1e6, 'none': 1.0}


@MODELS.register_module()
class GroupFisherChannelUnit(L1MutableChannelUnit):
    """A unit whose channels are pruned one at a time, least Fisher importance first.

    The importance of channel ``c`` over a batch is ``sum_b (sum_{layers, positions}
    a * dL/da)^2``, where ``a`` is the input of each conv/linear reading the channel
    and ``dL/da`` the gradient through that layer (the first-order change of the loss
    when the channel is masked). It accumulates over batches, divided by the cost of
    the channel: the FLOPs removing it saves (``'flops'``), the activation memory its
    output holds (``'act'``), or 1 (``'none'``).

    The kept-channel mask is saved in the unit's state dict (``_extra_state``), so a
    pruning checkpoint restores the pruned structure.

    Args:
        num_channels (int): The width of the unit.
        normalization_type (str): 'flops', 'act' or 'none'. Defaults to 'flops'.
        mutate_linear (bool): Whether a unit read by a linear layer (e.g. the
            classifier) may be pruned. Defaults to False.
        choice_mode, divisor, min_value, min_ratio, init_cfg: as
            :class:`SequentialMutableChannelUnit`.
    """

    dynamic_ops = {**DYNAMIC_OPS, nn.Conv2d: GroupFisherConv2d, nn.Linear: GroupFisherLinear}

    def __init__(self, num_channels: int, normalization_type: str = 'flops',
                 mutate_linear: bool = False, choice_mode: str = 'number', divisor: int = 1,
                 min_value: int = 1, min_ratio: float = 0.9,
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(num_channels, choice_mode, divisor, min_value, min_ratio, init_cfg)
        if normalization_type not in NORMALIZATION_TYPES:
            raise ValueError(f'normalization_type must be one of {NORMALIZATION_TYPES}, '
                             f'got {normalization_type!r}')
        self.normalization_type = normalization_type
        self.mutate_linear = mutate_linear
        self.register_buffer('normalized_fisher_info',
                             torch.zeros(num_channels, dtype=torch.float64))

    @property
    def init_args(self) -> Dict[str, Any]:
        return dict(super().init_args, normalization_type=self.normalization_type,
                    mutate_linear=self.mutate_linear)

    def unprunable_reasons(self) -> List[str]:
        """As any unit's, plus the linear layers reading it unless ``mutate_linear``."""
        reasons = super().unprunable_reasons()
        if not self.mutate_linear:
            reasons += [f'{c.name} (a Linear reads the unit; mutate_linear=False)'
                        for c in self.input_related if isinstance(c.module, nn.Linear)]
        return reasons

    # ---- the pruned structure in checkpoints ---------------------------------------

    def get_extra_state(self) -> torch.Tensor:
        # a plain tensor: MMEngine's runner broadcasts state dicts, tensors only
        return self.mutable_channel.current_mask.cpu().clone()

    def set_extra_state(self, state: Union[torch.Tensor, Dict[str, torch.Tensor]]) -> None:
        mask = state['mask'] if isinstance(state, dict) else state
        if tuple(mask.shape) != (self.num_channels, ):
            raise ValueError(f'unit {self.name!r} has {self.num_channels} channels; the '
                             f'checkpoint holds a mask of shape {tuple(mask.shape)}')
        if not self.is_fixed:
            self.mutable_channel.current_choice = mask.bool()

    # ---- recording ------------------------------------------------------------------

    def _recording_channels(self, channels: List[Channel]) -> Iterator[Channel]:
        return (c for c in channels if isinstance(c.module, GroupFisherMixin))

    def start_record_fisher_info(self) -> None:
        """Record activations and gradients of the unit's conv/linear layers."""
        for channel in self._recording_channels(self.channels):
            channel.module.start_record()

    def end_record_fisher_info(self) -> None:
        """Stop recording (what was recorded stays until ``reset_recorded``)."""
        for channel in self._recording_channels(self.channels):
            channel.module.end_record()

    def reset_recorded(self) -> None:
        """Forget the recorded activations and gradients."""
        for channel in self._recording_channels(self.channels):
            channel.module.reset_recorded()

    # ---- importance -----------------------------------------------------------------

    def current_batch_fisher(self) -> Optional[torch.Tensor]:
        """Fisher information of each channel on the recorded batch, ``[C]``; None
        when no layer reading the unit recorded a gradient."""
        total = None
        for channel in self._recording_channels(self.input_related):
            module = channel.module
            for x, grad in module.recorded_pairs():
                full = module.full_in_channels(module.in_channel_contribution(x, grad))
                part = full[:, channel.start:channel.end].double()
                part = part.reshape(part.shape[0], self.num_channels, channel.expand_ratio)
                part = part.sum(-1)
                total = part if total is None else total + part
        return None if total is None else (total ** 2).sum(0)

    def delta_flops(self) -> float:
        """MACs (per sample) that removing one channel saves, over the recorded calls."""
        total, seen = 0.0, set()
        for channel in self._recording_channels(self.output_related):
            total += channel.module.delta_flops_of_out_channel() * channel.expand_ratio
            if isinstance(channel.module, GroupFisherConv2d) and channel.module.is_depthwise:
                seen.add(id(channel.module))  # its in and out channel are one channel
        for channel in self._recording_channels(self.input_related):
            if id(channel.module) not in seen:
                total += channel.module.delta_flops_of_in_channel() * channel.expand_ratio
        return total

    def delta_memory(self) -> float:
        """Output activation elements (per sample) one channel holds."""
        return sum(c.module.delta_memory_of_out_channel() * c.expand_ratio
                   for c in self._recording_channels(self.output_related))

    def _cost(self) -> float:
        if self.normalization_type == 'flops':
            return self.delta_flops() / _SCALE['flops']
        if self.normalization_type == 'act':
            return self.delta_memory() / _SCALE['act']
        return 1.0

    @torch.no_grad()
    def update_fisher_info(self) -> None:
        """Add the recorded batch's normalized Fisher information (summed over ranks).

        A unit whose importance cannot be measured on this batch (no gradient reached
        it, or it costs nothing) gets an infinite importance until the next reset, so
        it is not pruned blindly.
        """
        fisher = self.current_batch_fisher()
        device = self.normalized_fisher_info.device
        if fisher is None:
            fisher = torch.zeros(self.num_channels, dtype=torch.float64, device=device)
            valid = torch.zeros(1, device=device)
        else:
            fisher = fisher.to(device)
            valid = torch.ones(1, device=device)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.all_reduce(fisher)  # every rank takes the same pruning decision
            dist.all_reduce(valid)
        cost = self._cost()
        if not valid.item() or cost <= 0:
            self.normalized_fisher_info.fill_(math.inf)
        else:
            self.normalized_fisher_info += fisher / cost

    def reset_fisher_info(self) -> None:
        """Start accumulating afresh."""
        self.normalized_fisher_info.zero_()

    def importance(self) -> torch.Tensor:
        """Accumulated normalized Fisher information; pruned channels are infinite."""
        importance = self.normalized_fisher_info.clone()
        importance[~self.mutable_channel.current_mask.to(importance.device)] = math.inf
        return importance

    def try_to_prune_min_channel(self) -> bool:
        """Prune the kept channel of least importance; False if only one is left."""
        if self.mutable_channel.activated_channels <= 1:
            return False
        mask = self.mutable_channel.current_mask
        mask[int(self.importance().argmin())] = False
        self.mutable_channel.current_choice = mask
        return True

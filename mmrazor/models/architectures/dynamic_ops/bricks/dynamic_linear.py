"""``DynamicLinear``: an ``nn.Linear`` whose in/out features follow mutables."""
from typing import Dict, Optional, Tuple, Type

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..mixins.dynamic_mixins import DynamicChannelMixin, share_state, sliced


class DynamicLinearMixin(DynamicChannelMixin):
    """Input/output features of a linear layer."""

    accepted_mutable_attrs = {'in_features', 'out_features'}
    attr_mappings = {'in_channels': 'in_features', 'out_channels': 'out_features'}

    @property
    def channel_sizes(self) -> Tuple[int, int]:
        return self.in_features, self.out_features

    def active_linear_params(self) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The (weight, bias) of the features kept now."""
        out_mask, in_mask = self.out_mask(), self.in_mask()
        weight = sliced(self.weight, out_mask)
        if in_mask is not None:
            weight = weight[:, in_mask]
        return weight, sliced(self.bias, out_mask)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        weight, bias = self.active_linear_params()
        return {'weight': weight} if bias is None else {'weight': weight, 'bias': bias}

    @classmethod
    def convert_from(cls, module: nn.Linear) -> 'DynamicLinearMixin':
        new = cls(module.in_features, module.out_features, bias=module.bias is not None,
                  device='meta')
        share_state(module, new)
        return new

    def to_static_op(self) -> nn.Module:
        self.check_if_mutables_fixed()
        weight, bias = self.active_linear_params()
        static = self.static_op_factory(weight.shape[1], weight.shape[0],
                                        bias=bias is not None)
        static = static.to(device=weight.device, dtype=weight.dtype)
        static.weight.data.copy_(weight.detach())
        if bias is not None:
            static.bias.data.copy_(bias.detach())
        return static.train(self.training)


class DynamicLinear(nn.Linear, DynamicLinearMixin):
    """An ``nn.Linear`` that multiplies by the kept slice of its weight."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return nn.Linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, *self.active_linear_params())

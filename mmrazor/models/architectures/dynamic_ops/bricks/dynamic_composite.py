"""Helpers of dynamic ops made of other dynamic ops (attention, patch embedding)."""
import torch.nn as nn

from ..mixins.dynamic_mixins import DynamicChannelMixin, DynamicMixin


def add_channel_containers(op: DynamicChannelMixin) -> DynamicChannelMixin:
    """Give ``op`` an empty ``MutableChannelContainer`` on each channel side.

    Composite ops (attention, patch embedding) register their mutables into the
    containers of the layers they hold, as models do with ``DynamicConv2d``.
    """
    # imported here: mmrazor.models.mutables imports the dynamic ops
    from mmrazor.models.mutables import MutableChannelContainer
    in_size, out_size = op.channel_sizes
    for side, size in (('in_channels', in_size), ('out_channels', out_size)):
        if op.get_mutable_attr(side) is None:
            op.register_mutable_attr(side, MutableChannelContainer(size))
    return op


def static_of(module: nn.Module) -> nn.Module:
    """``module``'s static op, or ``module`` when it is static already (the export
    converts the innermost dynamic ops first)."""
    return module.to_static_op() if isinstance(module, DynamicMixin) else module

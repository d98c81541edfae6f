"""Shared by the pruning tests: a model held with an L1 channel mutator."""
import warnings

import torch.nn as nn

from mmrazor.models.mutators import ChannelMutator


class Pruned(nn.Module):
    """``architecture`` with an L1 ``ChannelMutator`` (ratio choices) traced on
    ``shape``, as ``ItePruneAlgorithm`` holds them."""

    def __init__(self, architecture: nn.Module, shape: tuple = (1, 3, 32, 32)) -> None:
        super().__init__()
        self.architecture = architecture
        self.mutator = ChannelMutator(
            channel_unit_cfg=dict(type='L1MutableChannelUnit',
                                  default_args=dict(choice_mode='ratio')),
            parse_cfg=dict(type='ChannelAnalyzer', demo_input=shape, tracer_type='FxTracer'))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            self.mutator.prepare_from_supernet(architecture)

"""``DynamicLinearClsHead``: mmpretrain's ``LinearClsHead`` whose input features follow
the searchable width of the backbone's last layer."""
from typing import Any, Dict, Type

import torch
import torch.nn as nn
from mmpretrain.models.heads import LinearClsHead

from mmrazor.registry import MODELS

from ..mixins.dynamic_mixins import DynamicMixin
from .dynamic_linear import DynamicLinear


@MODELS.register_module()
class DynamicLinearClsHead(LinearClsHead, DynamicMixin):
    """A ``LinearClsHead`` with a ``DynamicLinear`` fc.

    ``connect_with_backbone(mutable)`` lets the backbone's last channel mutable
    decide the fc's input features (``SearchableImageClassifier`` calls it with
    ``connect_head``); ``to_static_op`` returns a ``LinearClsHead`` with the kept
    features. Arguments are those of ``LinearClsHead``.
    """

    def __init__(self, num_classes: int, in_channels: int, **kwargs: Any) -> None:
        super().__init__(num_classes, in_channels, **kwargs)
        self._static_kwargs = dict(num_classes=num_classes, in_channels=in_channels,
                                   **kwargs)
        self.mutable_attrs: nn.ModuleDict = nn.ModuleDict()
        self.fc = DynamicLinear.convert_from(self.fc)
        # imported here: mmrazor.models.mutables imports the dynamic ops
        from mmrazor.models.mutables import MutableChannelContainer
        self.fc.register_mutable_attr('in_channels', MutableChannelContainer(in_channels))

    def connect_with_backbone(self, backbone_output_mutable: nn.Module) -> None:
        """Let ``backbone_output_mutable`` (a channel mutable) decide the fc's inputs."""
        from mmrazor.models.mutables import MutableChannelContainer
        MutableChannelContainer.register_mutable_channel_to_module(
            self.fc, backbone_output_mutable, is_to_output_channel=False)

    @classmethod
    def convert_from(cls, module: LinearClsHead) -> 'DynamicLinearClsHead':
        new = cls(module.num_classes, module.in_channels, topk=module.topk,
                  cal_acc=module.cal_acc, loss=module.loss_module)
        new.fc.weight, new.fc.bias = module.fc.weight, module.fc.bias
        return new

    @property
    def static_op_factory(self) -> Type[nn.Module]:
        return LinearClsHead

    def to_static_op(self) -> nn.Module:
        fc = self.fc.to_static_op() if isinstance(self.fc, DynamicMixin) else self.fc
        static = LinearClsHead(**dict(self._static_kwargs, in_channels=fc.in_features,
                                      loss=self.loss_module))
        static.fc = fc
        return static.train(self.training)

    def active_parameters(self) -> Dict[str, torch.Tensor]:
        return {}

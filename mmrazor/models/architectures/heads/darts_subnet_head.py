"""``DartsSubnetClsHead``: the classifier of a retrained DARTS network, with the loss
of its auxiliary tower."""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from mmrazor.models.algorithms.distill.configurable.single_teacher_distill import add_prefix
from mmrazor.registry import MODELS


@MODELS.register_module()
class DartsSubnetClsHead(LinearClsHead):
    """A linear classifier that, while training, also classifies the auxiliary
    tower's features (the first of ``feats``, which ``DartsBackbone`` puts there with
    ``auxliary=True``) and adds that loss as ``aux_head.loss``.

    Args:
        aux_in_channels (int): Channels of the auxiliary features.
        aux_loss (dict): Config of the auxiliary loss, e.g.
            ``dict(type='CrossEntropyLoss', loss_weight=0.4)``.
        **kwargs: ``LinearClsHead`` arguments (``num_classes``, ``in_channels``,
            ``loss``, ``topk``, ``cal_acc``).
    """

    def __init__(self, aux_in_channels: int, aux_loss: Dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.aux_linear = nn.Linear(aux_in_channels, self.num_classes)
        self.aux_loss_module = MODELS.build(aux_loss)

    def forward_aux(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Class scores of the auxiliary features."""
        return self.aux_linear(feats[0])

    def loss(self, feats: Tuple[torch.Tensor, ...], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The head's losses and, prefixed ``aux_head.``, the auxiliary ones."""
        if len(feats) < 2:
            raise ValueError('DartsSubnetClsHead.loss needs the auxiliary features first '
                             'and the last cell\'s last (a DartsBackbone with '
                             f'auxliary=True, in training mode); got {len(feats)} feature')
        losses = super().loss(feats, data_samples, **kwargs)
        losses.update(add_prefix(self._aux_losses(self.forward_aux(feats), data_samples,
                                                  **kwargs), 'aux_head'))
        return losses

    def _aux_losses(self, cls_score: torch.Tensor, data_samples: List[DataSample],
                    **kwargs) -> Dict[str, torch.Tensor]:
        if 'gt_score' in data_samples[0]:  # mixed labels (batch augmentation)
            target = torch.stack([sample.gt_score for sample in data_samples])
        else:
            target = torch.cat([sample.gt_label for sample in data_samples])
        losses = dict(loss=self.aux_loss_module(cls_score, target,
                                                avg_factor=cls_score.size(0), **kwargs))
        if self.cal_acc and target.ndim == 1:
            accuracies = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, accuracies)})
        return losses

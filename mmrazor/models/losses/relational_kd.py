"""DistanceWiseRKD and AngleWiseRKD: Park et al., "Relational Knowledge Distillation"
(CVPR 2019)."""
from abc import ABCMeta, abstractmethod

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmrazor.registry import MODELS

from .utils import check_shapes


def euclidean_distance(pred: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """The (N, N) pairwise Euclidean distances of the rows of ``pred``, 0 on the
    diagonal (the clamp keeps the square root differentiable)."""
    square = pred.pow(2).sum(dim=1)
    dist_sq = square.unsqueeze(1) + square.unsqueeze(0) - 2 * pred @ pred.t()
    distance = dist_sq.clamp(min=eps).sqrt()
    return distance * (1 - torch.eye(len(pred), dtype=pred.dtype, device=pred.device))


class RelationalKD(nn.Module, metaclass=ABCMeta):
    """``smooth_l1(psi(S), psi(T))`` for a relation ``psi`` of a batch of (N, ...)
    embeddings flattened to (N, D); the embedding sizes may differ.

    Args:
        loss_weight (float): The loss's weight.
        with_l2_norm (bool): Whether to L2-normalize the embeddings first.
    """

    def __init__(self, loss_weight: float, with_l2_norm: bool) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.with_l2_norm = with_l2_norm

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss between embeddings (N, ...) with the same N."""
        check_shapes(type(self).__name__, 'preds_S', preds_S, 'preds_T', preds_T,
                     dims=(0, ))
        preds_S = preds_S.reshape(preds_S.shape[0], -1)
        preds_T = preds_T.detach().reshape(preds_T.shape[0], -1)
        if self.with_l2_norm:
            preds_S = F.normalize(preds_S, p=2, dim=1)
            preds_T = F.normalize(preds_T, p=2, dim=1)
        loss = F.smooth_l1_loss(self.relation(preds_S), self.relation(preds_T))
        return self.loss_weight * loss

    @staticmethod
    @abstractmethod
    def relation(pred: torch.Tensor) -> torch.Tensor:
        """The relation psi of (N, D) embeddings."""


@MODELS.register_module()
class DistanceWiseRKD(RelationalKD):
    """Relational KD on the pairwise distances, divided by their mean over the
    distinct pairs.

    Args:
        loss_weight (float): The loss's weight. Defaults to 25.0.
        with_l2_norm (bool): Whether to L2-normalize the embeddings first.
            Defaults to True.
    """

    def __init__(self, loss_weight: float = 25.0, with_l2_norm: bool = True) -> None:
        super().__init__(loss_weight, with_l2_norm)

    @staticmethod
    def relation(pred: torch.Tensor) -> torch.Tensor:
        distance = euclidean_distance(pred)
        return distance / distance[distance > 0].mean()


@MODELS.register_module()
class AngleWiseRKD(RelationalKD):
    """Relational KD on the cosines of the angles (e_j - e_i, e_k - e_i) formed by
    every triplet of embeddings.

    Args:
        loss_weight (float): The loss's weight. Defaults to 50.0.
        with_l2_norm (bool): Whether to L2-normalize the embeddings first.
            Defaults to True.
    """

    def __init__(self, loss_weight: float = 50.0, with_l2_norm: bool = True) -> None:
        super().__init__(loss_weight, with_l2_norm)

    @staticmethod
    def relation(pred: torch.Tensor) -> torch.Tensor:
        diff = F.normalize(pred.unsqueeze(0) - pred.unsqueeze(1), p=2, dim=2)
        return torch.bmm(diff, diff.transpose(1, 2)).reshape(-1)

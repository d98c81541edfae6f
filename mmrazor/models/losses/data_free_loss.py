"""The generator losses of DAFL: Chen et al., "Data-Free Learning of Student Networks"
(ICCV 2019). They score the teacher's outputs on generated images, so the gradient
must flow through the teacher to the generator: nothing is detached."""
from typing import Tuple

import torch
import torch.distributed as torch_dist
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import get_dist_info

from mmrazor.registry import MODELS

from .utils import check_choice


@MODELS.register_module()
class OnehotLikeLoss(nn.Module):
    """``CE(preds_T, argmax preds_T)``: pushes the teacher towards confident, one-hot
    like predictions on generated images.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of the teacher's logits ``preds_T`` (N, C)."""
        fake_label = preds_T.detach().argmax(dim=1)
        return self.loss_weight * F.cross_entropy(preds_T, fake_label)


class GatherTensors(torch.autograd.Function):
    """All-gather along dim 0 in the forward; the backward returns the gradient of this
    rank's own slice (each rank's loss only trains through its own samples)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        rank, world_size = get_dist_info()
        ctx.rank, ctx.num = rank, tensor.shape[0]
        gathered = [torch.empty_like(tensor) for _ in range(world_size)]
        torch_dist.all_gather(gathered, tensor.contiguous())
        return torch.cat(gathered)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> Tuple[torch.Tensor]:
        return grad[ctx.rank * ctx.num:(ctx.rank + 1) * ctx.num],


@MODELS.register_module()
class InformationEntropyLoss(nn.Module):
    """``sum_c p_c log10 p_c`` with ``p`` the batch-mean softmax of the teacher:
    minimizing it (the negative entropy) balances the classes of generated images. The
    base-10 logarithm follows the authors' code.

    Args:
        gather (bool): Whether to compute ``p`` over the batches of all processes in
            distributed training (all processes must have the same batch size).
            Defaults to True.
        loss_weight (float): The loss's weight. Defaults to 1.0.
    """

    def __init__(self, gather: bool = True, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.gather = gather
        self.loss_weight = loss_weight

    def forward(self, preds_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of the teacher's logits ``preds_T`` (N, C)."""
        if self.gather and get_dist_info()[1] > 1:
            preds_T = GatherTensors.apply(preds_T)
        class_prob = F.softmax(preds_T, dim=1).mean(dim=0)
        return self.loss_weight * (class_prob * torch.log10(class_prob)).sum()


@MODELS.register_module()
class ActivationLoss(nn.Module):
    """``-||f||``: rewards large teacher activations (features) on generated images;
    ``'abs'`` uses the mean absolute value, ``'norm'`` the L2 norm of the whole batch.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        norm_type (str): ``'abs'`` or ``'norm'``. Defaults to 'abs'.
    """

    def __init__(self, loss_weight: float = 1.0, norm_type: str = 'abs') -> None:
        super().__init__()
        check_choice('ActivationLoss', 'norm_type', norm_type, ('abs', 'norm'))
        self.loss_weight = loss_weight
        self.norm_type = norm_type

    def forward(self, feat_T: torch.Tensor) -> torch.Tensor:
        """Return the weighted loss of the teacher's feature ``feat_T`` (N, ...)."""
        feat_T = feat_T.reshape(feat_T.size(0), -1)
        activation = feat_T.abs().mean() if self.norm_type == 'abs' else feat_T.norm()
        return -self.loss_weight * activation

"""CRDLoss: Tian et al., "Contrastive Representation Distillation" (ICLR 2020)."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.structures import BaseDataElement

from mmrazor.registry import MODELS

from .utils import check_ndim, check_positive, check_shapes


def contrast_loss(probs: torch.Tensor, n_data: int, eps: float = 1e-7) -> torch.Tensor:
    """The NCE loss of Eq. (18): ``-(sum log h(pos) + sum log(1 - h(neg))) / N``.

    Args:
        probs (torch.Tensor): (N, K + 1) normalized scores, the positive first.
        n_data (int): The dataset size; noise samples have probability 1 / n_data.
        eps (float): Keeps the divisions finite. Defaults to 1e-7.
    """
    noise = (probs.size(1) - 1) / n_data
    log_pos = torch.log(probs[:, 0] / (probs[:, 0] + noise + eps))
    log_neg = torch.log(noise / (probs[:, 1:] + noise + eps))
    return -(log_pos.sum() + log_neg.sum()) / probs.size(0)


class ContrastMemory(nn.Module):
    """Memory banks of the student (``memory_v1``) and teacher (``memory_v2``)
    embeddings of every dataset sample, updated with momentum; they supply the
    negatives. ``params`` holds (K, T, Z_S, Z_T, momentum); the normalization
    constants Z are set from the first batch (-1 until then).

    Args:
        feat_dim (int): The embedding size.
        n_data (int): The dataset size.
        neg_num (int): The number K of negatives per sample.
        temperature (float): The temperature T. Defaults to 0.07.
        momentum (float): The memory's momentum. Defaults to 0.5.
    """

    def __init__(self, feat_dim: int, n_data: int, neg_num: int,
                 temperature: float = 0.07, momentum: float = 0.5) -> None:
        super().__init__()
        self.n_data = n_data
        self.register_buffer('params',
                             torch.tensor([neg_num, temperature, -1, -1, momentum]))
        stdv = 1. / math.sqrt(feat_dim / 3)
        self.register_buffer('memory_v1', torch.rand(n_data, feat_dim) * 2 * stdv - stdv)
        self.register_buffer('memory_v2', torch.rand(n_data, feat_dim) * 2 * stdv - stdv)

    def forward(self, feat_s: torch.Tensor, feat_t: torch.Tensor, idx: torch.Tensor,
                sample_idx: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return the (N, K + 1) normalized scores of the student embeddings against
        the teacher memory and of the teacher embeddings against the student memory.

        Args:
            feat_s (torch.Tensor): (N, D) student embeddings.
            feat_t (torch.Tensor): (N, D) teacher embeddings.
            idx (torch.Tensor): (N,) dataset indices of the samples.
            sample_idx (torch.Tensor, optional): (N, K + 1) memory indices, the
                positive first. Defaults to None: K uniform draws after ``idx``.
        """
        neg_num, temperature = int(self.params[0].item()), self.params[1].item()
        momentum = self.params[4].item()
        if sample_idx is None:
            sample_idx = torch.randint(0, self.n_data, (len(idx), neg_num + 1),
                                       device=idx.device)
            sample_idx[:, 0] = idx
        out_t = torch.exp(self.memory_v1[sample_idx] @ feat_t.unsqueeze(2) / temperature)
        out_s = torch.exp(self.memory_v2[sample_idx] @ feat_s.unsqueeze(2) / temperature)
        # Z is a constant of the model: fixed once from the first batch, no gradient.
        if self.params[2] < 0:
            self.params[2] = out_s.detach().mean() * self.n_data
        if self.params[3] < 0:
            self.params[3] = out_t.detach().mean() * self.n_data
        out_s = (out_s / self.params[2].item()).squeeze(2)
        out_t = (out_t / self.params[3].item()).squeeze(2)
        with torch.no_grad():
            self._update(self.memory_v1, feat_s, idx, momentum)
            self._update(self.memory_v2, feat_t, idx, momentum)
        return out_s, out_t

    @staticmethod
    def _update(memory: torch.Tensor, feat: torch.Tensor, idx: torch.Tensor,
                momentum: float) -> None:
        """``m[idx] = normalize(momentum * m[idx] + (1 - momentum) * feat)``."""
        pos = memory[idx] * momentum + feat.detach() * (1 - momentum)
        memory.index_copy_(0, idx, pos / pos.norm(dim=1, keepdim=True))


@MODELS.register_module()
class CRDLoss(nn.Module):
    """``NCE(S vs teacher memory) + NCE(T vs student memory)``: each embedding must
    pick its own sample's memory entry out of K negatives, the scores being
    ``exp(v . m / T) / Z``. Both embeddings come from trainable connectors, so the
    teacher's embedding keeps its gradient too.

    Args:
        loss_weight (float): The loss's weight. Defaults to 1.0.
        temperature (float): The temperature T. Defaults to 0.07.
        neg_num (int): The number K of negatives per sample. Defaults to 16384.
        sample_n (int): The dataset size (memory entries). Defaults to 50000.
        dim_out (int): The embedding size. Defaults to 128.
        momentum (float): The memory's momentum. Defaults to 0.5.
        eps (float): Keeps the NCE divisions finite. Defaults to 1e-7.
    """

    def __init__(self, loss_weight: float = 1.0, temperature: float = 0.07,
                 neg_num: int = 16384, sample_n: int = 50000, dim_out: int = 128,
                 momentum: float = 0.5, eps: float = 1e-7) -> None:
        super().__init__()
        for name, value in (('temperature', temperature), ('neg_num', neg_num),
                            ('sample_n', sample_n), ('dim_out', dim_out)):
            check_positive('CRDLoss', name, value)
        self.loss_weight = loss_weight
        self.sample_n = sample_n
        self.neg_num = neg_num
        self.dim_out = dim_out
        self.eps = eps
        self.contrast = ContrastMemory(dim_out, sample_n, neg_num, temperature, momentum)

    def forward(self, s_feats: torch.Tensor, t_feats: torch.Tensor,
                data_samples: Sequence[BaseDataElement]) -> torch.Tensor:
        """Return the weighted loss.

        Args:
            s_feats (torch.Tensor): (N, dim_out) student embeddings.
            t_feats (torch.Tensor): (N, dim_out) teacher embeddings.
            data_samples (Sequence[BaseDataElement]): One per sample, carrying
                ``sample_idx`` (its dataset index) and optionally
                ``contrast_sample_idxs`` (K + 1 memory indices, the positive first).
        """
        check_ndim('CRDLoss', 's_feats', s_feats, 2)
        check_shapes('CRDLoss', 's_feats', s_feats, 't_feats', t_feats)
        if s_feats.shape[1] != self.dim_out:
            raise ValueError(f'CRDLoss: s_feats has shape {tuple(s_feats.shape)} but '
                             f'dim_out={self.dim_out}; they must match')
        idx, contrast_idx = self._indices(data_samples, len(s_feats), s_feats.device)
        out_s, out_t = self.contrast(s_feats, t_feats, idx, contrast_idx)
        loss = contrast_loss(out_s, self.sample_n, self.eps) + contrast_loss(
            out_t, self.sample_n, self.eps)
        return self.loss_weight * loss

    def _indices(self, data_samples: Sequence[BaseDataElement], num: int,
                 device: torch.device) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """The (N,) dataset indices and the optional (N, K + 1) contrast indices."""
        if len(data_samples) != num or not all('sample_idx' in d for d in data_samples):
            raise ValueError(f'CRDLoss: data_samples must be {num} data elements, each with '
                             f'a sample_idx (its dataset index); got {len(data_samples)}')
        idx = torch.as_tensor([int(d.sample_idx) for d in data_samples], device=device)
        if idx.min() < 0 or idx.max() >= self.sample_n:
            raise ValueError(f'CRDLoss: sample_idx must be in [0, sample_n={self.sample_n}) '
                             f'(sample_n is the dataset size), got {idx.tolist()}')
        if 'contrast_sample_idxs' not in data_samples[0]:
            return idx, None
        contrast_idx = torch.stack([
            torch.as_tensor(d.contrast_sample_idxs) for d in data_samples
        ]).to(device=device, dtype=torch.long)
        if contrast_idx.shape != (num, self.neg_num + 1):
            raise ValueError(f'CRDLoss: contrast_sample_idxs must have neg_num + 1 = '
                             f'{self.neg_num + 1} indices per sample, got shape '
                             f'{tuple(contrast_idx.shape)}')
        return idx, contrast_idx

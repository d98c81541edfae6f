"""Relational (RKD) and contrastive (CRD) losses against formulas written out here."""
import itertools

import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from mmrazor.models.losses import AngleWiseRKD, CRDLoss, DistanceWiseRKD


def embeddings(*shape: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def np_unit_rows(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return flat / np.sqrt((flat**2).sum(axis=1, keepdims=True))


def np_smooth_l1(a: np.ndarray, b: np.ndarray) -> float:
    """Huber loss with beta = 1, averaged."""
    d = np.abs(a - b)
    return float(np.where(d < 1, 0.5 * d**2, d - 0.5).mean())


def np_distances(e: np.ndarray) -> np.ndarray:
    """Pairwise distances divided by their mean over the distinct pairs."""
    n = len(e)
    d = np.array([[np.linalg.norm(e[i] - e[j]) for j in range(n)] for i in range(n)])
    return d / d[~np.eye(n, dtype=bool)].mean()


def np_angles(e: np.ndarray) -> np.ndarray:
    """cos of the angle at e_a between e_b and e_c, 0 where a vector is null."""
    n = len(e)
    out = np.zeros((n, n, n))
    for a, b, c in itertools.product(range(n), repeat=3):
        u, v = e[b] - e[a], e[c] - e[a]
        if np.linalg.norm(u) > 0 and np.linalg.norm(v) > 0:
            out[a, b, c] = u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
    return out


@pytest.mark.parametrize('with_l2_norm', [True, False])
def test_distance_wise_rkd_matches_formula(with_l2_norm):
    S, T = embeddings(4, 3, 2, seed=1), embeddings(4, 5, seed=2) * 3
    s, t = S.numpy().reshape(4, -1), T.numpy()
    if with_l2_norm:
        s, t = np_unit_rows(s), np_unit_rows(t)
    expected = 25.0 * np_smooth_l1(np_distances(s), np_distances(t))
    loss = DistanceWiseRKD(with_l2_norm=with_l2_norm)(S, T)
    assert loss.item() == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize('with_l2_norm', [True, False])
def test_angle_wise_rkd_matches_formula(with_l2_norm):
    S, T = embeddings(4, 6, seed=3), embeddings(4, 2, 2, seed=4)
    s, t = S.numpy(), T.numpy().reshape(4, -1)
    if with_l2_norm:
        s, t = np_unit_rows(s), np_unit_rows(t)
    expected = 2.0 * np_smooth_l1(np_angles(s), np_angles(t))
    loss = AngleWiseRKD(loss_weight=2.0, with_l2_norm=with_l2_norm)(S, T)
    assert loss.item() == pytest.approx(expected, rel=1e-8)


def data_samples(idxs: list, contrast: list = None) -> list:
    samples = [BaseDataElement(metainfo=dict(sample_idx=i)) for i in idxs]
    for sample, row in zip(samples, contrast or []):
        sample.contrast_sample_idxs = np.array(row)
    return samples


def np_nce(probs: np.ndarray, n_data: int, eps: float) -> float:
    """Eq. (18) of CRD: positive in column 0, K negatives with noise 1 / n_data."""
    noise = (probs.shape[1] - 1) / n_data
    pos = np.log(probs[:, 0] / (probs[:, 0] + noise + eps)).sum()
    neg = np.log(noise / (probs[:, 1:] + noise + eps)).sum()
    return -(pos + neg) / len(probs)


def test_crd_loss_matches_formula_and_updates_memory():
    loss_fn = CRDLoss(loss_weight=0.5, temperature=0.5, neg_num=2, sample_n=6, dim_out=3,
                      momentum=0.25)
    mem_s = loss_fn.contrast.memory_v1.double().numpy().copy()
    mem_t = loss_fn.contrast.memory_v2.double().numpy().copy()
    S = embeddings(2, 3, seed=5, dtype=torch.float32).requires_grad_()
    T = embeddings(2, 3, seed=6, dtype=torch.float32).requires_grad_()
    rows = [[4, 0, 5], [1, 3, 3]]
    loss = loss_fn(S, T, data_samples([4, 1], rows))
    s, t = S.detach().double().numpy(), T.detach().double().numpy()
    scores_s = np.exp(np.stack([mem_t[r] @ s[b] for b, r in enumerate(rows)]) / 0.5)
    scores_t = np.exp(np.stack([mem_s[r] @ t[b] for b, r in enumerate(rows)]) / 0.5)
    z_s, z_t = scores_s.mean() * 6, scores_t.mean() * 6
    expected = 0.5 * (np_nce(scores_s / z_s, 6, 1e-7) + np_nce(scores_t / z_t, 6, 1e-7))
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    # Both embeddings come from trainable connectors: both get a gradient.
    assert S.grad is not None and T.grad is not None
    for memory, before, feat in ((loss_fn.contrast.memory_v1, mem_s, s),
                                 (loss_fn.contrast.memory_v2, mem_t, t)):
        for b, i in enumerate([4, 1]):
            mixed = 0.25 * before[i] + 0.75 * feat[b]
            np.testing.assert_allclose(memory[i].numpy(), mixed / np.linalg.norm(mixed),
                                       rtol=1e-5)
        np.testing.assert_array_equal(memory[[0, 2, 3, 5]].numpy(), before[[0, 2, 3, 5]])
    params = loss_fn.contrast.params.clone()
    loss_fn(S, T, data_samples([2, 3]))  # drawn negatives; Z stays from the first batch
    assert torch.equal(loss_fn.contrast.params, params)
    assert params[2].item() == pytest.approx(z_s, rel=1e-5)


def test_crd_loss_rejects_bad_data_samples():
    loss_fn = CRDLoss(neg_num=2, sample_n=6, dim_out=3)
    S = embeddings(2, 3, dtype=torch.float32)
    with pytest.raises(ValueError, match=r'CRDLoss: data_samples must be 2 data elements, '
                       r'each with a sample_idx \(its dataset index\); got 1'):
        loss_fn(S, S, data_samples([0]))
    with pytest.raises(ValueError, match=r'CRDLoss: sample_idx must be in \[0, sample_n=6\) '
                       r'\(sample_n is the dataset size\), got \[0, 6\]'):
        loss_fn(S, S, data_samples([0, 6]))
    with pytest.raises(ValueError, match=r'CRDLoss: contrast_sample_idxs must have neg_num '
                       r'\+ 1 = 3 indices per sample, got shape \(2, 2\)'):
        loss_fn(S, S, data_samples([0, 1], [[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match=r'CRDLoss: s_feats has shape \(2, 4\) but '
                       r'dim_out=3; they must match'):
        loss_fn(embeddings(2, 4), embeddings(2, 4), data_samples([0, 1]))


@pytest.mark.parametrize('loss_type', [DistanceWiseRKD, AngleWiseRKD])
def test_rkd_in_float32_matches_float64(loss_type):
    """Training runs in float32: the loss must give the float64 value checked above."""
    S, T = embeddings(4, 6, seed=7), embeddings(4, 5, seed=8)
    in_float32 = loss_type()(S.float(), T.float())
    assert in_float32.dtype == torch.float32
    assert in_float32.item() == pytest.approx(loss_type()(S, T).item(), rel=1e-5)

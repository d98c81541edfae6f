"""Logit distillation losses against formulas written out here in numpy (float64, and
float32, the dtype training runs in)."""
import numpy as np
import pytest
import torch

from mmrazor.models.losses import (
    WSLD,
    ChannelWiseDivergence,
    CrossEntropyLoss,
    DISTLoss,
    DKDLoss,
    KDSoftCELoss,
    KLDivergence,
)

# float32 is what training runs in; float64 checks the formula to rounding error
RTOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def logits(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64).to(dtype) * 2


def np_softmax(x: np.ndarray) -> np.ndarray:
    """Softmax of a 1-D array by explicit log-sum-exp."""
    shifted = x - x.max()
    return np.exp(shifted) / np.exp(shifted).sum()


def np_kl(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || q) of two 1-D distributions."""
    return float(np.sum(p * (np.log(p) - np.log(q))))


# torch warns that 'mean' divides by the number of elements: that is the option's meaning.
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('reduction', ['batchmean', 'sum', 'mean', 'none'])
def test_kl_divergence_matches_formula(reduction, dtype):
    S, T = logits(3, 5, seed=1, dtype=dtype), logits(3, 5, seed=2, dtype=dtype)
    tau = 3.0
    terms = np.zeros((3, 5))
    for n in range(3):
        p_t = np_softmax(T[n].double().numpy() / tau)
        p_s = np_softmax(S[n].double().numpy() / tau)
        terms[n] = p_t * (np.log(p_t) - np.log(p_s))
    expected = {'batchmean': terms.sum() / 3, 'sum': terms.sum(), 'mean': terms.mean(),
                'none': terms}[reduction] * tau**2 * 0.5
    loss = KLDivergence(tau=tau, reduction=reduction, loss_weight=0.5)(S, T)
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.double().numpy(), expected, rtol=RTOL[dtype])


def test_kl_divergence_teacher_detach_false_trains_through_teacher():
    S, T = logits(2, 4).requires_grad_(), logits(2, 4, seed=3).requires_grad_()
    KLDivergence(teacher_detach=False)(S, T).backward()
    assert S.grad is not None and T.grad is not None and T.grad.abs().sum() > 0


def test_kl_divergence_rejects_bad_options():
    with pytest.raises(ValueError, match=r"KLDivergence: reduction='avg' is not valid; "
                       r"valid values are \['batchmean', 'mean', 'none', 'sum'\]"):
        KLDivergence(reduction='avg')
    with pytest.raises(ValueError, match='KLDivergence: tau must be positive, got 0'):
        KLDivergence(tau=0)


def test_channel_wise_divergence_matches_formula():
    S, T = logits(2, 3, 2, 3, seed=4), logits(2, 3, 2, 3, seed=5)
    tau = 2.0
    total = sum(
        np_kl(np_softmax(T[n, c].numpy().ravel() / tau),
              np_softmax(S[n, c].numpy().ravel() / tau)) for n in range(2) for c in range(3))
    expected = 0.7 * tau**2 * total / (2 * 3)
    loss = ChannelWiseDivergence(tau=tau, loss_weight=0.7)(S, T)
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def np_dkd(S: np.ndarray, T: np.ndarray, labels: np.ndarray, tau: float) -> tuple:
    """Per-sample TCKD and NCKD, the non-target distributions built by deleting the
    ground-truth column."""
    tckd, nckd = [], []
    for s, t, g in zip(S, T, labels):
        p_s, p_t = np_softmax(s / tau), np_softmax(t / tau)
        tckd.append(np_kl(np.array([p_t[g], 1 - p_t[g]]), np.array([p_s[g], 1 - p_s[g]])))
        others = [c for c in range(len(s)) if c != g]
        nckd.append(np_kl(np_softmax(t[others] / tau), np_softmax(s[others] / tau)))
    return tau**2 * np.array(tckd), tau**2 * np.array(nckd)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
@pytest.mark.parametrize('reduction', ['none', 'sum', 'mean', 'batchmean'])
def test_dkd_matches_formula(reduction, dtype):
    S, T = logits(4, 6, seed=6, dtype=dtype), logits(4, 6, seed=7, dtype=dtype)
    labels = torch.tensor([0, 5, 2, 2])
    tckd, nckd = np_dkd(S.double().numpy(), T.double().numpy(), labels.numpy(), tau=2.0)
    per_sample = 0.3 * (0.5 * tckd + 2.0 * nckd)
    expected = {'none': per_sample, 'sum': per_sample.sum(),
                'batchmean': per_sample.sum() / 4, 'mean': per_sample.sum() / (4 * 6)}
    loss = DKDLoss(tau=2.0, alpha=0.5, beta=2.0, reduction=reduction,
                   loss_weight=0.3)(S, T, labels)
    assert loss.dtype == dtype and loss.shape == ((4, ) if reduction == 'none' else ())
    np.testing.assert_allclose(loss.double().numpy(), expected[reduction],
                               rtol=RTOL[dtype])


def test_dkd_rejects_bad_labels_and_reduction():
    S = logits(2, 3)
    with pytest.raises(ValueError, match=r'DKDLoss: gt_labels must be 2 integer class '
                       r'indices \(shape \(2,\)\), got a torch.float64 tensor of shape'):
        DKDLoss()(S, S, torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="DKDLoss: reduction='avg' is not valid"):
        DKDLoss(reduction='avg')


def test_wsld_matches_formula():
    S, T = logits(3, 4, seed=8), logits(3, 4, seed=9)
    labels = np.array([1, 3, 0])
    tau = 2.0
    weighted = []
    for s, t, g in zip(S.numpy(), T.numpy(), labels):
        soft_ce = -np.sum(np_softmax(t / tau) * np.log(np_softmax(s / tau)))
        ce_s, ce_t = -np.log(np_softmax(s)[g]), -np.log(np_softmax(t)[g])
        weighted.append((1 - np.exp(-max(ce_s / (ce_t + 1e-7), 0))) * soft_ce)
    expected = 1.5 * tau**2 * np.mean(weighted)
    loss = WSLD(tau=tau, loss_weight=1.5, num_classes=4)(S, T, torch.from_numpy(labels))
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_wsld_rejects_wrong_num_classes():
    S = logits(2, 4)
    with pytest.raises(ValueError, match=r'WSLD: student has 4 classes \(shape \(2, 4\)\) '
                       r'but num_classes=1000'):
        WSLD()(S, S, torch.tensor([0, 1]))


def np_soft_ce(S: torch.Tensor, T: torch.Tensor, tau: float) -> np.ndarray:
    return np.array([-np.sum(np_softmax(t / tau) * np.log(np_softmax(s / tau)))
                     for s, t in zip(S.numpy(), T.numpy())])


def test_kd_soft_ce_matches_formula_with_weights_and_reductions():
    S, T = logits(4, 5, seed=10), logits(4, 5, seed=11)
    per_sample = np_soft_ce(S, T, tau=2.0)
    weight = torch.tensor([1.0, 0.0, 2.0, 0.5], dtype=torch.float64)
    loss_fn = KDSoftCELoss(tau=2.0, loss_weight=0.5)
    assert loss_fn(S, T).item() == pytest.approx(0.5 * 4 * per_sample.mean(), rel=1e-10)
    weighted = per_sample * weight.numpy()
    assert loss_fn(S, T, weight=weight, avg_factor=2.0).item() == pytest.approx(
        0.5 * 4 * weighted.sum() / 2.0, rel=1e-6)
    np.testing.assert_allclose(
        loss_fn(S, T, weight=weight, reduction_override='none').numpy(),
        0.5 * 4 * weighted, rtol=1e-10)
    no_square = KDSoftCELoss(tau=2.0, reduction='sum', mult_tem_square=False)
    assert no_square(S, T).item() == pytest.approx(per_sample.sum(), rel=1e-10)


def test_kd_soft_ce_rejects_bad_reductions():
    S = logits(2, 3)
    with pytest.raises(ValueError, match="KDSoftCELoss: reduction='avg' is not valid; "
                       r"valid values are \['mean', 'none', 'sum', None\]"):
        KDSoftCELoss(reduction='avg')
    with pytest.raises(ValueError, match="KDSoftCELoss: reduction_override='max' is not"):
        KDSoftCELoss()(S, S, reduction_override='max')
    with pytest.raises(ValueError, match="avg_factor can only be used with reduction "
                       "'mean' or 'none', got 'sum'"):
        KDSoftCELoss(reduction='sum')(S, S, avg_factor=2.0)
    with pytest.raises(ValueError, match=r'KDSoftCELoss: weight has shape \(3,\) but the '
                       r'per-sample loss has shape \(2,\)'):
        KDSoftCELoss()(S, S, weight=torch.ones(3))


def test_dist_loss_matches_pearson_formula():
    S, T = logits(5, 4, seed=12), logits(5, 4, seed=13)
    tau = 2.0
    y_s = np.stack([np_softmax(s / tau) for s in S.numpy()])
    y_t = np.stack([np_softmax(t / tau) for t in T.numpy()])
    inter = 1 - np.mean([np.corrcoef(y_s[n], y_t[n])[0, 1] for n in range(5)])
    intra = 1 - np.mean([np.corrcoef(y_s[:, c], y_t[:, c])[0, 1] for c in range(4)])
    expected = 0.5 * tau**2 * (2.0 * inter + 3.0 * intra)
    loss = DISTLoss(inter_loss_weight=2.0, intra_loss_weight=3.0, tau=tau,
                    loss_weight=0.5)(S, T)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_with_teacher_probabilities_matches_formula():
    S = logits(3, 4, seed=14)
    probs_T = torch.softmax(logits(3, 4, seed=15), dim=1)
    expected = -np.mean([np.sum(p * np.log(np_softmax(s)))
                         for s, p in zip(S.numpy(), probs_T.numpy())])
    loss = CrossEntropyLoss(loss_weight=2.0)(S, probs_T)
    assert loss.item() == pytest.approx(2.0 * expected, rel=1e-10)

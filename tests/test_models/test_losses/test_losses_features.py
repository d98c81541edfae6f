"""Feature distillation losses against formulas written out here in numpy (float64);
float32, the dtype training runs in, must give the same values."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmrazor.models.losses import (
    ABLoss,
    ATLoss,
    FBKDLoss,
    FTLoss,
    L1Loss,
    L2Loss,
    MGDLoss,
    OFDLoss,
    PKDLoss,
)


def feats(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def np_unit_rows(x: np.ndarray) -> np.ndarray:
    """Each sample flattened and divided by its L2 norm."""
    flat = x.reshape(len(x), -1)
    return flat / np.sqrt((flat**2).sum(axis=1, keepdims=True))


@pytest.mark.parametrize('reduction', ['mean', 'sum', 'none'])
def test_l1_loss_matches_formula(reduction):
    S, T = feats(2, 3, 2, seed=1), feats(2, 3, 2, seed=2)
    diff = np.abs(S.numpy() - T.numpy())
    expected = {'mean': diff.mean(), 'sum': diff.sum(), 'none': diff}[reduction]
    loss = L1Loss(loss_weight=2.0, reduction=reduction)(S, T)
    np.testing.assert_allclose(loss.numpy(), 2.0 * expected, rtol=1e-12)


def test_l1_loss_keeps_the_teacher_gradient_for_generators():
    S, T = feats(2, 3).requires_grad_(), feats(2, 3, seed=3).requires_grad_()
    L1Loss(loss_weight=-1.0)(S, T).backward()
    assert S.grad is not None and T.grad is not None


def test_l1_loss_rejects_bad_reduction():
    with pytest.raises(ValueError, match=r"L1Loss: reduction='avg' is not valid; valid "
                       r"values are \['mean', 'none', 'sum'\]"):
        L1Loss(reduction='avg')


def test_l2_loss_matches_formula_in_each_mode():
    S, T = feats(3, 2, 2, seed=4), feats(3, 2, 2, seed=5)
    s, t = S.numpy(), T.numpy()
    normalized_sq = ((2.5 * np_unit_rows(s) - 2.5 * np_unit_rows(t))**2).sum()
    assert L2Loss(mult=2.5)(S, T).item() == pytest.approx(normalized_sq / 3, rel=1e-12)
    raw_sq = ((s - t)**2).sum()
    assert L2Loss(normalize=False, div_element=True, loss_weight=3.0)(S, T).item() == \
        pytest.approx(3.0 * raw_sq / 12, rel=1e-12)
    assert L2Loss(normalize=False, dist=True)(S, T).item() == \
        pytest.approx(np.sqrt(raw_sq), rel=1e-12)


def test_ab_loss_matches_formula():
    S, T = feats(2, 3, 2, 2, seed=6) * 2, feats(2, 3, 2, 2, seed=7)
    s, t, m = S.numpy(), T.numpy(), 0.5
    pushed_down = np.where((s > -m) & (t <= 0), (s + m)**2, 0.0)
    pushed_up = np.where((s <= m) & (t > 0), (s - m)**2, 0.0)
    expected = (pushed_down + pushed_up).sum() / 2 / 1000 * 3
    assert ABLoss(margin=m)(S, T).item() == pytest.approx(expected, rel=1e-12)


def test_at_loss_matches_formula_with_different_channel_counts():
    S, T = feats(2, 3, 2, 3, seed=8), feats(2, 5, 2, 3, seed=9)
    q_s = np_unit_rows((S.numpy()**2).mean(axis=1))
    q_t = np_unit_rows((T.numpy()**2).mean(axis=1))
    expected = 4.0 * ((q_s - q_t)**2).mean()
    assert ATLoss(loss_weight=4.0)(S, T).item() == pytest.approx(expected, rel=1e-12)


def test_ofd_loss_matches_formula():
    S, T = feats(2, 3, 2, 2, seed=10), feats(2, 3, 2, 2, seed=11).clamp(min=-0.3)
    s, t = S.numpy(), T.numpy()
    counted = ~((s <= t) & (t <= 0))
    expected = np.where(counted, (s - t)**2, 0.0).sum() / 2 / 100
    assert OFDLoss(mul_factor=100)(S, T).item() == pytest.approx(expected, rel=1e-12)


def test_ft_loss_matches_formula():
    S, T = feats(2, 3, 2, 2, seed=12), feats(2, 3, 2, 2, seed=13)
    expected = np.abs(np_unit_rows(S.numpy()) - np_unit_rows(T.numpy())).mean()
    assert FTLoss(loss_weight=0.5)(S, T).item() == pytest.approx(0.5 * expected, rel=1e-12)


def fbkd_inputs(seed: int) -> tuple:
    """Student (spatial_mask, channel_mask, channel_pool, spatial_pool, relation,
    feature) and teacher (spatial_mask, channel_mask, spatial_pool, relation, feature),
    shaped as the FBKD connectors make them."""
    shapes = [(2, 1, 3, 3), (2, 4, 1, 1), (2, 4), (2, 1, 3, 3), (2, 4, 3, 3), (2, 4, 3, 3)]
    s_in = [feats(*shape, seed=seed + i) for i, shape in enumerate(shapes)]
    t_in = [feats(*shape, seed=seed + 10 + i) for i, shape in enumerate(shapes)]
    for tensors in (s_in, t_in):
        tensors[0], tensors[1] = tensors[0].abs(), tensors[1].abs()
    del t_in[2]  # the teacher connector gives no channel pool: the loss makes it
    return s_in, t_in


def test_fbkd_loss_matches_formula():
    s_in, t_in = fbkd_inputs(20)
    s, t = [x.numpy() for x in s_in], [x.numpy() for x in t_in]
    spatial_mask = (s[0] + t[0]) / 2  # the channel masks do not weight it (MMRazor 1.x)
    mask_l2 = np.sqrt(((t[4] - s[5])**2 * spatial_mask).sum())
    channel = np.sqrt(((t[4].mean(axis=(2, 3)) - s[2])**2).sum())
    spatial = np.sqrt(((t[2] - s[3])**2).sum())
    nonlocal_ = np.sqrt(((t[3] - s[4])**2).sum())
    expected = 2.0 * (1.0 * mask_l2 + 2.0 * channel + 3.0 * spatial + 4.0 * nonlocal_)
    loss = FBKDLoss(mask_l2_weight=1.0, channel_weight=2.0, spatial_weight=3.0,
                    nonloacl_weight=4.0, loss_weight=2.0)(tuple(s_in), tuple(t_in))
    assert loss.item() == pytest.approx(expected, rel=1e-12)
    # the channel masks change nothing
    t_in[1] = t_in[1] * 10
    assert FBKDLoss(mask_l2_weight=1.0, channel_weight=2.0, spatial_weight=3.0,
                    nonloacl_weight=4.0, loss_weight=2.0)(tuple(s_in), tuple(t_in)).item() \
        == pytest.approx(expected, rel=1e-12)


def test_fbkd_loss_trains_the_teacher_relation_only():
    s_in, t_in = fbkd_inputs(20)
    s_in = [x.requires_grad_() for x in s_in]
    t_in = [x.requires_grad_() for x in t_in]
    FBKDLoss()(tuple(s_in), tuple(t_in)).backward()
    assert [x.grad is not None for x in s_in] == [False, False, True, True, True, True]
    assert [x.grad is not None for x in t_in] == [False, False, False, True, False]


def test_fbkd_loss_rejects_bad_tuples():
    s_in, t_in = (tuple(x) for x in fbkd_inputs(0))
    with pytest.raises(ValueError, match=r"FBKDLoss: t_input must hold 5 tensors \("
                       r"'spatial_mask', 'channel_mask', 'spatial_pool', .*'feature'\), "
                       r'got 6'):
        FBKDLoss()(s_in, s_in)
    with pytest.raises(ValueError, match=r"FBKDLoss: s_input must hold 6 tensors .*got 5"):
        FBKDLoss()(t_in, t_in)
    t_in = t_in[:4] + (feats(2, 4, 3, 2), )
    with pytest.raises(ValueError, match=r'FBKDLoss: s_input\[5\] \(feature\) has shape '
                       r'\(2, 4, 3, 3\) but t_input\[4\] \(feature\) has shape '
                       r'\(2, 4, 3, 2\)'):
        FBKDLoss()(s_in, t_in)


def test_mgd_loss_matches_formula():
    S, T = feats(2, 3, 2, 2, seed=14), feats(2, 3, 2, 2, seed=15)
    expected = 2e-5 * ((S.numpy() - T.numpy())**2).sum() / 2
    assert MGDLoss()(S, T).item() == pytest.approx(expected, rel=1e-12)


def np_pearson_loss(s: np.ndarray, t: np.ndarray) -> float:
    """``(M - 1) / M * mean_c (1 - r_c)``: MSE of standardized (unbiased std) channels
    over M = N * H * W values, halved, written with the Pearson r of each channel."""
    n_values = s.shape[0] * s.shape[2] * s.shape[3]
    r = [np.corrcoef(s[:, c].ravel(), t[:, c].ravel())[0, 1] for c in range(s.shape[1])]
    return (n_values - 1) / n_values * float(np.mean(1 - np.array(r)))


def test_pkd_loss_matches_pearson_formula_over_levels():
    S = (feats(2, 3, 4, 4, seed=16), feats(2, 2, 2, 2, seed=17))
    T = (feats(2, 3, 4, 4, seed=18), feats(2, 2, 2, 2, seed=19) * 5 + 1)
    expected = sum(np_pearson_loss(s.numpy(), t.numpy()) for s, t in zip(S, T))
    assert PKDLoss(loss_weight=2.0)(S, T).item() == pytest.approx(2 * expected, rel=1e-5)


def test_pkd_loss_resizes_the_student_or_the_teacher():
    S, T = feats(2, 3, 2, 2, seed=20), feats(2, 3, 4, 4, seed=21)
    up_S = F.interpolate(S, (4, 4), mode='bilinear').numpy()
    assert PKDLoss()(S, T).item() == pytest.approx(np_pearson_loss(up_S, T.numpy()), rel=1e-5)
    down_T = F.interpolate(T, (2, 2), mode='bilinear').numpy()
    assert PKDLoss(resize_stu=False)(S, T).item() == pytest.approx(
        np_pearson_loss(S.numpy(), down_T), rel=1e-5)


def test_pkd_loss_rejects_mismatched_levels():
    S = feats(2, 3, 2, 2)
    with pytest.raises(ValueError, match='PKDLoss: preds_S has 2 levels but preds_T has 1'):
        PKDLoss()((S, S), (S, ))


FLOAT32_CASES = {
    'L1Loss': (L1Loss(), (2, 3, 2)),
    'L2Loss': (L2Loss(mult=2.5), (3, 2, 2)),
    'ABLoss': (ABLoss(), (2, 3, 2, 2)),
    'ATLoss': (ATLoss(), (2, 3, 2, 3)),
    'OFDLoss': (OFDLoss(), (2, 3, 2, 2)),
    'FTLoss': (FTLoss(), (2, 3, 2, 2)),
    'MGDLoss': (MGDLoss(), (2, 3, 2, 2)),
    'PKDLoss': (PKDLoss(), (2, 3, 4, 4)),
}


@pytest.mark.parametrize('name', list(FLOAT32_CASES))
def test_feature_losses_in_float32_match_their_float64_formula(name):
    """Training runs in float32: each loss must give, in float32, the float64 value that
    the formula tests above check against numpy."""
    loss_fn, shape = FLOAT32_CASES[name]
    S, T = feats(*shape, seed=40), feats(*shape, seed=41)
    in_float32 = loss_fn(S.float(), T.float())
    assert in_float32.dtype == torch.float32
    assert in_float32.item() == pytest.approx(loss_fn(S, T).item(), rel=1e-5)


def test_fbkd_loss_in_float32_matches_float64():
    s_in, t_in = fbkd_inputs(20)
    in_float32 = FBKDLoss()(tuple(x.float() for x in s_in), tuple(x.float() for x in t_in))
    assert in_float32.dtype == torch.float32
    assert in_float32.item() == pytest.approx(
        FBKDLoss()(tuple(s_in), tuple(t_in)).item(), rel=1e-5)

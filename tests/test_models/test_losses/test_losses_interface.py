"""What configs and distillers rely on for all 22 losses: registry names, constructor
defaults, forward argument names, no gradient into the teacher, shape errors."""
import inspect

import pytest
import torch

import mmrazor.models.losses as losses
from mmrazor.registry import MODELS

# name: (constructor defaults, forward argument names), as in MMRazor 1.x.
INTERFACE = {
    'KLDivergence': (dict(tau=1.0, reduction='batchmean', loss_weight=1.0,
                          teacher_detach=True), ['preds_S', 'preds_T']),
    'ChannelWiseDivergence': (dict(tau=1.0, loss_weight=1.0), ['preds_S', 'preds_T']),
    'DKDLoss': (dict(tau=1.0, alpha=1.0, beta=1.0, reduction='batchmean', loss_weight=1.0),
                ['preds_S', 'preds_T', 'gt_labels']),
    'WSLD': (dict(tau=1.0, loss_weight=1.0, num_classes=1000),
             ['student', 'teacher', 'gt_labels']),
    'KDSoftCELoss': (dict(tau=1.0, reduction='mean', mult_tem_square=True, loss_weight=1.0),
                     ['preds_S', 'preds_T', 'weight', 'avg_factor', 'reduction_override']),
    'DISTLoss': (dict(inter_loss_weight=1.0, intra_loss_weight=1.0, tau=1.0,
                      loss_weight=1.0, teacher_detach=True), ['logits_S', 'logits_T']),
    'CrossEntropyLoss': (dict(loss_weight=1.0), ['preds_S', 'preds_T']),
    'L1Loss': (dict(loss_weight=1.0, size_average=None, reduce=None, reduction='mean'),
               ['s_feature', 't_feature']),
    'L2Loss': (dict(loss_weight=1.0, normalize=True, mult=1.0, div_element=False,
                    dist=False), ['s_feature', 't_feature']),
    'ABLoss': (dict(loss_weight=1.0, margin=1.0), ['s_feature', 't_feature']),
    'ATLoss': (dict(loss_weight=1.0), ['s_feature', 't_feature']),
    'OFDLoss': (dict(loss_weight=1.0, mul_factor=1000), ['s_feature', 't_feature']),
    'FTLoss': (dict(loss_weight=1.0), ['s_feature', 't_feature']),
    'FBKDLoss': (dict(mask_l2_weight=7e-5, channel_weight=4e-3, spatial_weight=4e-3,
                      nonloacl_weight=7e-5, loss_weight=1.0), ['s_input', 't_input']),
    'MGDLoss': (dict(alpha_mgd=2e-5), ['preds_S', 'preds_T']),
    'PKDLoss': (dict(loss_weight=1.0, resize_stu=True), ['preds_S', 'preds_T']),
    'DistanceWiseRKD': (dict(loss_weight=25.0, with_l2_norm=True), ['preds_S', 'preds_T']),
    'AngleWiseRKD': (dict(loss_weight=50.0, with_l2_norm=True), ['preds_S', 'preds_T']),
    'CRDLoss': (dict(loss_weight=1.0, temperature=0.07, neg_num=16384, sample_n=50000,
                     dim_out=128, momentum=0.5, eps=1e-7),
                ['s_feats', 't_feats', 'data_samples']),
    'OnehotLikeLoss': (dict(loss_weight=1.0), ['preds_T']),
    'InformationEntropyLoss': (dict(gather=True, loss_weight=1.0), ['preds_T']),
    'ActivationLoss': (dict(loss_weight=1.0, norm_type='abs'), ['feat_T']),
}


def test_all_losses_are_exported():
    assert sorted(losses.__all__) == sorted(INTERFACE)


@pytest.mark.parametrize('name', sorted(INTERFACE))
def test_constructor_defaults_and_forward_arguments(name):
    defaults, forward_args = INTERFACE[name]
    cls = getattr(losses, name)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    assert {p.name: p.default for p in params} == defaults
    assert list(inspect.signature(cls.forward).parameters)[1:] == forward_args


# Small non-default options: each loss is built by its registry name.
BUILD_OPTIONS = {name: {} for name in INTERFACE}
BUILD_OPTIONS.update(KLDivergence=dict(tau=4), CRDLoss=dict(neg_num=4, sample_n=10),
                     ActivationLoss=dict(norm_type='norm'), WSLD=dict(num_classes=10))


@pytest.mark.parametrize('name', sorted(INTERFACE))
def test_build_by_name(name):
    loss = MODELS.build(dict(type=f'mmrazor.{name}', **BUILD_OPTIONS[name]))
    assert type(loss) is getattr(losses, name)
    for key, value in BUILD_OPTIONS[name].items():
        assert getattr(loss, key) == value


def rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# name: (constructor options, student shape, teacher shape, extra forward arguments).
DETACHING = {
    'KLDivergence': (dict(), (4, 5), (4, 5), ()),
    'ChannelWiseDivergence': (dict(), (2, 3, 2, 2), (2, 3, 2, 2), ()),
    'DKDLoss': (dict(), (4, 5), (4, 5), (torch.tensor([0, 1, 4, 2]), )),
    'WSLD': (dict(num_classes=5), (4, 5), (4, 5), (torch.tensor([0, 1, 4, 2]), )),
    'KDSoftCELoss': (dict(), (4, 5), (4, 5), ()),
    'DISTLoss': (dict(), (4, 5), (4, 5), ()),
    'CrossEntropyLoss': (dict(), (4, 5), (4, 5), ()),
    'L2Loss': (dict(), (2, 3, 2, 2), (2, 3, 2, 2), ()),
    'ABLoss': (dict(), (2, 3, 2, 2), (2, 3, 2, 2), ()),
    'ATLoss': (dict(), (2, 3, 2, 2), (2, 5, 2, 2), ()),
    'OFDLoss': (dict(), (2, 3, 2, 2), (2, 3, 2, 2), ()),
    'FTLoss': (dict(), (2, 3, 2, 2), (2, 3, 2, 2), ()),
    'MGDLoss': (dict(), (2, 3, 2, 2), (2, 3, 2, 2), ()),
    'PKDLoss': (dict(), (2, 3, 2, 2), (2, 3, 4, 4), ()),
    'DistanceWiseRKD': (dict(), (4, 3), (4, 6), ()),
    'AngleWiseRKD': (dict(), (4, 3), (4, 6), ()),
}


@pytest.mark.parametrize('name', sorted(DETACHING))
def test_gradient_reaches_the_student_but_not_the_teacher(name):
    options, shape_S, shape_T, extra = DETACHING[name]
    preds_S = rand(*shape_S, seed=1).requires_grad_()
    preds_T = rand(*shape_T, seed=2).requires_grad_()
    getattr(losses, name)(**options)(preds_S, preds_T, *extra).backward()
    assert preds_S.grad is not None and preds_S.grad.abs().sum() > 0
    assert preds_T.grad is None


@pytest.mark.parametrize('name', ['KLDivergence', 'DISTLoss'])
def test_teacher_detach_false_lets_the_gradient_reach_the_teacher(name):
    preds_S, preds_T = rand(4, 5, seed=1), rand(4, 5, seed=2).requires_grad_()
    getattr(losses, name)(teacher_detach=False)(preds_S, preds_T).backward()
    assert preds_T.grad is not None and preds_T.grad.abs().sum() > 0


# name: (constructor options, student shape, teacher shape, the rule in the message).
MISMATCHES = {
    'KLDivergence': (dict(), (4, 10), (4, 100), 'they must match'),
    'ChannelWiseDivergence': (dict(), (2, 3, 2, 2), (2, 4, 2, 2), 'they must match'),
    'DKDLoss': (dict(), (4, 10), (4, 100), 'they must match'),
    'WSLD': (dict(num_classes=10), (4, 10), (4, 100), 'they must match'),
    'KDSoftCELoss': (dict(), (4, 10), (4, 100), 'they must match'),
    'DISTLoss': (dict(), (4, 10), (4, 100), 'they must match'),
    'CrossEntropyLoss': (dict(), (4, 10), (4, 100), 'they must match'),
    'L1Loss': (dict(), (2, 3), (2, 1), 'they must match'),
    'L2Loss': (dict(), (2, 3), (2, 4), 'they must match'),
    'ABLoss': (dict(), (2, 3, 2, 2), (2, 4, 2, 2), 'they must match'),
    'ATLoss': (dict(), (2, 3, 2, 2), (2, 3, 4, 4), r'they must match in dimensions \(0, 2, 3\)'),
    'OFDLoss': (dict(), (2, 3, 2, 2), (2, 4, 2, 2), 'they must match'),
    'FTLoss': (dict(), (2, 3, 2, 2), (2, 4, 2, 2), 'they must match'),
    'MGDLoss': (dict(), (2, 3, 2, 2), (2, 4, 2, 2), 'they must match'),
    'PKDLoss': (dict(), (2, 3, 2, 2), (2, 4, 2, 2), r'they must match in dimensions \(0, 1\)'),
    'DistanceWiseRKD': (dict(), (4, 3), (5, 3), r'they must match in dimensions \(0,\)'),
    'AngleWiseRKD': (dict(), (4, 3), (5, 3), r'they must match in dimensions \(0,\)'),
    'CRDLoss': (dict(neg_num=2, sample_n=6, dim_out=3), (2, 3), (2, 4), 'they must match'),
}


def re_shape(shape: tuple) -> str:
    return str(tuple(shape)).replace('(', r'\(').replace(')', r'\)')


@pytest.mark.parametrize('name', sorted(MISMATCHES))
def test_shape_mismatch_names_the_loss_the_tensors_and_both_shapes(name):
    options, shape_S, shape_T, rule = MISMATCHES[name]
    names = INTERFACE[name][1][:2]
    extra = {'DKDLoss': (torch.zeros(4, dtype=torch.long), ),
             'WSLD': (torch.zeros(4, dtype=torch.long), ), 'CRDLoss': ([], )}.get(name, ())
    pattern = (rf'^{name}: {names[0]} has shape {re_shape(shape_S)} but {names[1]} has '
               rf'shape {re_shape(shape_T)}; {rule}$')
    with pytest.raises(ValueError, match=pattern):
        getattr(losses, name)(**options)(rand(*shape_S), rand(*shape_T), *extra)


def test_wrong_number_of_dimensions_is_named():
    with pytest.raises(ValueError, match=r'ChannelWiseDivergence: preds_S must have 4 '
                       r'dimensions, got shape \(2, 3\)'):
        losses.ChannelWiseDivergence()(rand(2, 3), rand(2, 3))

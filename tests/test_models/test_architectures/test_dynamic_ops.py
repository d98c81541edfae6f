"""Dynamic ops compute on the kept slice of their weights and convert to identical
static layers."""
from typing import Optional

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks import Conv2dAdaptivePadding
from mmengine.model.utils import _BatchNormXd

from mmrazor.models.architectures.dynamic_ops import (
                                                      DynamicBatchNorm1d,
                                                      DynamicBatchNorm2d,
                                                      DynamicBatchNorm3d,
                                                      DynamicBatchNormXd,
                                                      DynamicConv2d,
                                                      DynamicConv2dAdaptivePadding,
                                                      DynamicGroupNorm,
                                                      DynamicLayerNorm,
                                                      DynamicLinear,
                                                      DynamicSyncBatchNorm,
                                                      SwitchableBatchNorm2d,
)
from mmrazor.models.mutables import MutableChannelContainer, SimpleMutableChannel
from mmrazor.models.task_modules.estimators.counters import get_model_flops_params
from mmrazor.registry import MODELS, TASK_UTILS


def mask_of(size: int, keep) -> torch.Tensor:
    mask = torch.zeros(size, dtype=torch.bool)
    mask[list(keep)] = True
    return mask


def attach(op: nn.Module, in_mask: Optional[torch.Tensor],
           out_mask: Optional[torch.Tensor]) -> list:
    """Give ``op`` containers driven by simple mutable channels with these masks."""
    mutables = []
    for side, mask, size in (('in_channels', in_mask, op.channel_sizes[0]),
                             ('out_channels', out_mask, op.channel_sizes[1])):
        if op.get_mutable_attr(side) is None:
            op.register_mutable_attr(side, MutableChannelContainer(size))
        if mask is not None:
            mutable = SimpleMutableChannel(size)
            mutable.current_choice = mask
            op.get_mutable_attr(side).register_mutable(mutable, 0, size)
            mutables.append(mutable)
    return mutables


def fix_all(mutables: list) -> None:
    for mutable in mutables:
        mutable.fix_chosen()


def conv_reference(conv: nn.Conv2d, x_active: torch.Tensor, in_mask, out_mask):
    """The full conv on the input with pruned channels zeroed, pruned outputs dropped."""
    x_full = torch.zeros(x_active.shape[0], conv.in_channels, *x_active.shape[2:])
    x_full[:, in_mask] = x_active
    return conv(x_full)[:, out_mask]


@pytest.mark.parametrize('groups,in_keep,out_keep', [
    (1, [0, 2, 3, 6], [1, 4, 5, 9, 15]),
    (4, [0, 7], [0, 2, 12, 14]),                            # groups 0 and 3 kept
    (4, [0, 1, 2, 3, 4, 5, 6, 7], list(range(0, 16, 2))),  # all groups, half the outputs
    (8, [1, 2, 5], [2, 3, 4, 5, 10, 11]),                  # depthwise, multiplier 2
])
def test_dynamic_conv_computes_on_the_slice_and_exports(groups, in_keep, out_keep):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1, groups=groups)
    op = DynamicConv2d.convert_from(conv)
    assert op.weight is conv.weight  # shares, does not copy
    in_mask, out_mask = mask_of(8, in_keep), mask_of(16, out_keep)
    mutables = attach(op, in_mask, out_mask)
    x = torch.randn(2, len(in_keep), 6, 6)
    out = op(x)
    assert out.shape[1] == len(out_keep)
    torch.testing.assert_close(out, conv_reference(conv, x, in_mask, out_mask))
    weight = op.active_parameters()['weight']
    assert weight.numel() < conv.weight.numel()
    fix_all(mutables)
    static = op.to_static_op()
    assert type(static) is nn.Conv2d
    assert static.in_channels == len(in_keep) and static.out_channels == len(out_keep)
    torch.testing.assert_close(static(x), out, atol=1e-6, rtol=0)


def test_dynamic_conv_rejects_masks_that_break_groups():
    op = DynamicConv2d.convert_from(nn.Conv2d(8, 8, 3, groups=8))
    attach(op, mask_of(8, [0, 1]), mask_of(8, [0, 2]))
    with pytest.raises(ValueError, match='keep input and output channels of a group'):
        op(torch.randn(1, 2, 5, 5))
    op = DynamicConv2d.convert_from(nn.Conv2d(8, 8, 3, groups=2))
    attach(op, mask_of(8, [0, 1, 4]), mask_of(8, [0, 4]))
    with pytest.raises(ValueError, match='equal numbers of channels'):
        op(torch.randn(1, 3, 5, 5))


def test_dynamic_conv_adaptive_padding_matches_mmcv():
    torch.manual_seed(0)
    conv = Conv2dAdaptivePadding(6, 10, 3, stride=2)
    op = DynamicConv2dAdaptivePadding.convert_from(conv)
    in_mask, out_mask = mask_of(6, [0, 1, 4]), mask_of(10, [2, 3, 8])
    fix_all(attach(op, in_mask, out_mask))
    x = torch.randn(1, 3, 9, 9)
    torch.testing.assert_close(op(x), conv_reference(conv, x, in_mask, out_mask))
    static = op.to_static_op()
    assert type(static) is Conv2dAdaptivePadding
    torch.testing.assert_close(static(x), op(x))


def test_dynamic_linear_computes_on_the_slice_and_exports():
    torch.manual_seed(0)
    linear = nn.Linear(6, 5)
    op = DynamicLinear.convert_from(linear)
    in_mask, out_mask = mask_of(6, [1, 2, 5]), mask_of(5, [0, 4])
    mutables = attach(op, in_mask, out_mask)
    x = torch.randn(3, 3)
    x_full = torch.zeros(3, 6)
    x_full[:, in_mask] = x
    torch.testing.assert_close(op(x), linear(x_full)[:, out_mask])
    assert op.active_parameters()['weight'].shape == (2, 3)
    fix_all(mutables)
    static = op.to_static_op()
    assert (static.in_features, static.out_features) == (3, 2)
    torch.testing.assert_close(static(x), op(x))


@pytest.mark.parametrize('static_cls,dynamic_cls,shape', [
    (nn.BatchNorm1d, DynamicBatchNorm1d, (4, 6)),
    (nn.BatchNorm2d, DynamicBatchNorm2d, (4, 6, 3, 3)),
    (nn.BatchNorm3d, DynamicBatchNorm3d, (4, 6, 2, 2, 2)),
    (_BatchNormXd, DynamicBatchNormXd, (4, 6, 3, 3)),
    (nn.SyncBatchNorm, DynamicSyncBatchNorm, (4, 6, 3, 3)),
])
def test_dynamic_batch_norms_match_a_static_bn_of_the_kept_channels(
        static_cls, dynamic_cls, shape):
    torch.manual_seed(0)
    bn = static_cls(6)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    op = dynamic_cls.convert_from(bn)
    keep = [0, 3, 5]
    mask = mask_of(6, keep)
    mutables = attach(op, mask, None)
    reference = nn.BatchNorm1d(3) if static_cls is nn.BatchNorm1d else \
        nn.BatchNorm2d(3) if len(shape) == 4 else nn.BatchNorm3d(3)
    reference.load_state_dict({k: (v[mask] if v.dim() else v)
                               for k, v in bn.state_dict().items()})
    before = bn.running_mean.clone()
    x = torch.randn(*shape[:1], 3, *shape[2:])
    op.train()
    reference.train()
    torch.testing.assert_close(op(x), reference(x))
    # the kept channels' statistics are updated in place; the others untouched
    torch.testing.assert_close(bn.running_mean[mask], reference.running_mean)
    torch.testing.assert_close(bn.running_mean[~mask], before[~mask])
    op.eval()
    reference.eval()
    torch.testing.assert_close(op(x), reference(x))
    fix_all(mutables)
    static = op.to_static_op()
    assert type(static) is static_cls and static.num_features == 3
    torch.testing.assert_close(static.eval()(x), reference(x))


def test_dynamic_layer_norm():
    torch.manual_seed(0)
    norm = nn.LayerNorm(6)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
    op = DynamicLayerNorm.convert_from(norm)
    mask = mask_of(6, [1, 2, 4, 5])
    mutables = attach(op, mask, None)
    x = torch.randn(2, 7, 4)
    expected = F.layer_norm(x, (4, ), norm.weight[mask], norm.bias[mask], norm.eps)
    torch.testing.assert_close(op(x), expected)
    fix_all(mutables)
    torch.testing.assert_close(op.to_static_op()(x), expected)
    assert not DynamicLayerNorm.is_convertible(nn.LayerNorm((4, 6)))
    with pytest.raises(ValueError, match=r'normalizes \(4, 6\)'):
        DynamicLayerNorm.convert_from(nn.LayerNorm((4, 6)))


def test_switchable_batch_norm_keeps_one_bn_per_width():
    bn = nn.BatchNorm2d(8)
    with torch.no_grad():
        bn.weight.copy_(torch.arange(8.) + 1)
    op = SwitchableBatchNorm2d.convert_from(bn)
    op.init_candidates([4, 8])
    torch.testing.assert_close(op.candidate_bn['4'].weight, torch.arange(4.) + 1)
    mutable = attach(op, mask_of(8, range(4)), None)[0]
    op.train()
    op(torch.randn(4, 4, 3, 3) + 5)
    assert op.candidate_bn['4'].running_mean.mean() > 0.4   # width 4 saw the batch
    assert op.candidate_bn['8'].running_mean.abs().max() == 0  # width 8 did not
    mutable.current_choice = mask_of(8, range(6))
    with pytest.raises(ValueError, match=r'no BN for 6 channels; candidates: \[4, 8\]'):
        op(torch.randn(4, 6, 3, 3))
    mutable.current_choice = mask_of(8, range(4))
    mutable.fix_chosen()
    static = op.eval().to_static_op()
    assert type(static) is nn.BatchNorm2d and static.num_features == 4
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(static(x), op(x))


def test_to_static_op_needs_fixed_mutables_and_attrs_are_checked():
    op = DynamicConv2d.convert_from(nn.Conv2d(4, 4, 1))
    attach(op, mask_of(4, [0]), mask_of(4, [1, 2]))
    with pytest.raises(RuntimeError, match='not fixed: in_channels, out_channels'):
        op.to_static_op()
    with pytest.raises(ValueError, match="no mutable attribute 'out_channel'.*closest: "
                                         'out_channels'):
        op.register_mutable_attr('out_channel', MutableChannelContainer(4))
    with pytest.raises(ValueError, match='has 4 channels; a mutable of 5 channels'):
        op.register_mutable_attr('in_channels', MutableChannelContainer(5))
    with pytest.raises(TypeError, match='must be a BaseMutable'):
        op.register_mutable_attr('in_channels', nn.Identity())


def _pruned_conv_linear():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Flatten(), nn.Linear(16 * 6 * 6, 10))
    conv = DynamicConv2d.convert_from(model[0])
    linear = DynamicLinear.convert_from(model[2])
    out_mask = mask_of(16, range(0, 16, 2))
    mutables = attach(conv, None, out_mask) + attach(linear, out_mask.repeat_interleave(36),
                                                     None)
    dynamic = nn.Sequential(conv, nn.Flatten(), linear)
    fix_all(mutables)
    static = nn.Sequential(conv.to_static_op(), nn.Flatten(), linear.to_static_op())
    return model, dynamic, static


def test_flops_are_counted_at_the_current_width():
    model, dynamic, static = _pruned_conv_linear()
    kwargs = dict(input_shape=(1, 3, 8, 8), units=None)
    flops = get_model_flops_params(dynamic, **kwargs)[0]
    assert flops == get_model_flops_params(static, **kwargs)[0]
    assert flops < get_model_flops_params(model, **kwargs)[0]


def test_active_parameters_are_those_of_the_static_model():
    # compared per module: the estimator's params total dedupes by id() of temporary
    # slices (base_counter.count_active_params), which Python may reuse
    _, dynamic, static = _pruned_conv_linear()
    for dynamic_op, static_op in zip(dynamic, static):
        active = getattr(dynamic_op, 'active_parameters', lambda: {})()
        for name, param in static_op.named_parameters():
            torch.testing.assert_close(active[name], param)


def test_dynamic_counters_can_be_disabled_by_name():
    _, dynamic, _ = _pruned_conv_linear()
    kwargs = dict(input_shape=(1, 3, 8, 8), units=None)
    without_conv = get_model_flops_params(
        dynamic, disabled_counters=['DynamicConv2dCounter'], **kwargs)[0]
    conv_macs = 8 * 6 * 6 * 3 * 3 * 3
    assert get_model_flops_params(dynamic, **kwargs)[0] - without_conv >= conv_macs


def test_registered_names():
    for name in ('DynamicConv2d', 'DynamicBatchNorm1d', 'DynamicBatchNorm2d',
                 'DynamicBatchNorm3d', 'DynamicLayerNorm'):
        assert MODELS.get(name) is not None, name
    for name in ('DynamicConv2dCounter', 'DynamicLinearCounter'):
        assert TASK_UTILS.get(name) is not None, name


def test_dynamic_group_norm_keeps_channels_per_group():
    torch.manual_seed(0)
    norm = nn.GroupNorm(4, 12)  # 3 channels per group
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-1, 1)
    op = DynamicGroupNorm.convert_from(norm)
    keep = [0, 2, 3, 5, 9, 11]
    mask = mask_of(12, keep)
    mutables = attach(op, mask, None)
    x = torch.randn(2, 6, 3, 3)
    expected = F.group_norm(x, 2, norm.weight[mask], norm.bias[mask], norm.eps)
    torch.testing.assert_close(op(x), expected)
    fix_all(mutables)
    static = op.to_static_op()
    assert (static.num_groups, static.num_channels) == (2, 6)
    torch.testing.assert_close(static(x), expected)
    bad = DynamicGroupNorm.convert_from(nn.GroupNorm(4, 12))
    attach(bad, mask_of(12, range(5)), None)
    with pytest.raises(ValueError, match='3 channels per group; 5 kept channels are not a '
                                         'multiple'):
        bad(torch.randn(1, 5, 2, 2))


@pytest.mark.parametrize('groups', [1, 4])
def test_full_width_conv_uses_its_weight_without_a_copy(groups):
    # a gather of every kept channel (and its scatter in the backward) cost BigNAS/OFA
    # supernets 60-70 % at their largest subnet: full width must use the weight itself
    conv = DynamicConv2d(8, 8, 3, groups=groups)
    mutables = attach(conv, torch.ones(8, dtype=torch.bool), torch.ones(8, dtype=torch.bool))
    weight, _, used_groups = conv.active_conv_params()
    assert weight is conv.weight and used_groups == groups
    for mutable in mutables:  # pruned (whole groups): a smaller copy
        mutable.current_choice = mask_of(8, range(4))
    weight, _, _ = conv.active_conv_params()
    assert weight is not conv.weight and weight.shape[0] == 4


def test_dynamic_embedding_looks_up_the_kept_dims_and_exports():
    from mmrazor.models.architectures.dynamic_ops import DynamicEmbedding
    torch.manual_seed(0)
    table = nn.Embedding(20, 6, padding_idx=0)
    op = DynamicEmbedding.convert_from(table)
    out_mask = mask_of(6, [0, 3, 4])
    mutables = attach(op, None, out_mask)
    tokens = torch.tensor([[0, 5, 19], [3, 3, 7]])
    torch.testing.assert_close(op(tokens), table(tokens)[..., out_mask])
    assert op.active_parameters()['weight'].shape == (20, 3)
    fix_all(mutables)
    static = op.to_static_op()
    assert type(static) is nn.Embedding and static.embedding_dim == 3
    assert static.padding_idx == 0
    torch.testing.assert_close(static(tokens), op(tokens))
    assert not DynamicEmbedding.is_convertible(nn.Embedding(20, 6, max_norm=1.0))

"""The DARTS search space: its candidate ops (shapes at stride 1 and 2, what each op
computes, MMRazor's module names, bad arguments) and ``DartsBackbone`` built from
MMRazor's search-space config (cells, reduction cells, aliases shared by all normal and
all reduction cells, the auxiliary tower, bad arguments) and the DARTS subnet head's
auxiliary loss."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmpretrain.structures import DataSample

from mmrazor.models import (
    DartsBackbone,
    DartsDilConv,
    DartsPoolBN,
    DartsSepConv,
    DartsSkipConnect,
    DartsZero,
)
from mmrazor.models.mutables import DiffChoiceRoute, DiffMutableOP
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS

from ...conftest import REPO_ROOT

# one_thread: an autouse fixture, active here once imported
from .test_searchable_shufflenet import one_thread  # noqa: F401

SPACE = osp.join(REPO_ROOT, 'configs', '_base_', 'nas_backbones', 'darts_supernet.py')
OPS = ['zero', 'skip_connect', 'max_pool_3x3', 'avg_pool_3x3', 'sep_conv_3x3', 'sep_conv_5x5',
       'dil_conv_3x3', 'dil_conv_5x5']


def darts_backbone(**kwargs) -> dict:
    """MMRazor's DARTS search space, with ``kwargs`` changed."""
    cfg = Config.fromfile(SPACE).nas_backbone.to_dict()
    cfg.update(kwargs)
    return cfg


@pytest.mark.parametrize('stride', [1, 2])
def test_every_candidate_maps_channels_at_its_stride(stride):
    cfg = darts_backbone().pop('mutable_cfg')
    x = torch.rand(2, 8, 10, 10)  # even: the factorized reduce halves it exactly
    for name in OPS:
        op = MODELS.build(dict(cfg['candidates'][name], in_channels=8, out_channels=8,
                               stride=stride)).eval()
        size = 10 // stride
        assert op(x).shape == (2, 8, size, size), name


def test_ops_compute_what_darts_defines():
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(DartsZero(4, 4, 2)(x), torch.zeros(2, 4, 3, 3))
    assert DartsSkipConnect(in_channels=4, out_channels=4)(x) is x
    pool = DartsPoolBN('max', in_channels=4, out_channels=4).eval()
    expected = pool.bn(nn.functional.max_pool2d(x, 3, 1, 1))
    assert torch.allclose(pool(x), expected)
    # padding is not averaged in: a constant input stays constant at the border
    avg = DartsPoolBN('avg', in_channels=4, out_channels=4, norm_cfg=dict(
        type='BN', affine=False)).eval()
    assert torch.allclose(avg.pool(torch.ones(1, 4, 5, 5)), torch.ones(1, 4, 5, 5))
    dil = DartsDilConv(5, in_channels=4, out_channels=4)
    assert dil.conv1[1].dilation == (2, 2) and dil.conv1[1].padding == (4, 4)
    assert dil.conv1[1].groups == 4
    # MMRazor's module names, so its checkpoints load
    sep = DartsSepConv(3, in_channels=4, out_channels=4, stride=2)
    assert sorted(sep.state_dict()) == sorted(
        f'conv{i}.{k}' for i in (1, 2) for k in (
            '1.weight', '2.weight', '3.weight', '3.bias', '3.running_mean', '3.running_var',
            '3.num_batches_tracked'))
    reduce = DartsSkipConnect(in_channels=4, out_channels=4, stride=2)
    assert {name for name, _ in reduce.named_children()} == {'relu', 'conv1', 'conv2', 'bn'}


def test_drop_path_zeroes_whole_samples_in_training_only():
    op = DartsSepConv(3, in_channels=4, out_channels=4, use_drop_path=True)
    torch.manual_seed(0)
    out = op.train()(torch.randn(64, 4, 5, 5))
    dropped = (out.flatten(1).abs().sum(1) == 0).sum().item()
    assert 0 < dropped < 64
    assert (op.eval()(torch.randn(64, 4, 5, 5)).flatten(1).abs().sum(1) > 0).all()


def test_bad_op_arguments_are_refused():
    with pytest.raises(ValueError, match=r"kernel_size must be one of \(3, 5\), got 7"):
        DartsSepConv(7, in_channels=4, out_channels=4)
    with pytest.raises(ValueError, match=r"pool_type must be one of \('max', 'avg'\), "
                                         r"got 'min'"):
        DartsPoolBN('min', in_channels=4, out_channels=4)
    with pytest.raises(ValueError, match=r'stride must be one of \(1, 2\), got 3'):
        DartsZero(4, 4, 3)
    with pytest.raises(ValueError, match='the identity .* keeps the channels, got 4 -> 8'):
        DartsSkipConnect(in_channels=4, out_channels=8)


def test_backbone_of_mmrazor_config_shares_cells_through_aliases():
    torch.manual_seed(0)
    backbone = MODELS.build(darts_backbone(base_channels=4))
    assert isinstance(backbone, DartsBackbone)
    assert [cell.reduction for cell in backbone.cells] == [
        False, False, True, False, False, True, False, False]
    (out, ) = backbone(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 4 * 4 * 4, 8, 8)  # channels doubled twice, 4 nodes
    node = backbone.cells[2].nodes[1].route
    assert isinstance(node, DiffChoiceRoute) and node.alias == 'reduce_n3'
    assert node.choices == ['reduce_n3_p0', 'reduce_n3_p1', 'reduce_n3_p2']
    edge = node._candidates['reduce_n3_p1']
    assert isinstance(edge, DiffMutableOP) and edge.choices == OPS
    # the reduction cell's edges from its inputs have stride 2, the others 1
    assert edge._candidates['sep_conv_3x3'].stride == 2
    assert node._candidates['reduce_n3_p2']._candidates['sep_conv_3x3'].stride == 1

    mutator = NasMutator()
    mutator.prepare_from_supernet(backbone)
    groups = mutator.search_groups
    # 14 edges and 4 nodes per cell kind, each group spanning every cell of its kind
    assert len(groups) == 2 * (14 + 4)
    sizes = sorted({(type(g[0]).__name__, len(g)) for g in groups.values()})
    assert sizes == [('DiffChoiceRoute', 2), ('DiffChoiceRoute', 6), ('DiffMutableOP', 2),
                     ('DiffMutableOP', 6)]


def test_auxiliary_tower_output_comes_first_while_training():
    backbone = MODELS.build(darts_backbone(base_channels=2, num_layers=5, out_indices=(4, ),
                                              auxliary=True, aux_channels=8,
                                              aux_out_channels=12))
    x = torch.rand(2, 3, 32, 32)
    backbone.train()
    aux, out = backbone(x)
    assert aux.shape == (2, 12, 1, 1) and out.shape == (2, 2 * 4 * 4, 8, 8)
    backbone.eval()
    assert [o.shape for o in backbone(x)] == [out.shape]


def test_bad_backbone_arguments_are_refused():
    with pytest.raises(ValueError, match=r'the last being the last cell 7; got \(6,\)'):
        MODELS.build(darts_backbone(out_indices=(6, )))
    with pytest.raises(ValueError, match='auxliary=True needs aux_channels and '
                                         'aux_out_channels'):
        MODELS.build(darts_backbone(auxliary=True))


def test_subnet_head_adds_the_weighted_auxiliary_loss():
    head = MODELS.build(dict(
        type='mmrazor.DartsSubnetClsHead', num_classes=3, in_channels=4, aux_in_channels=5,
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        aux_loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=0.4), topk=(1, ),
        cal_acc=True))
    aux, out = torch.randn(2, 5), torch.randn(2, 4)
    samples = [DataSample().set_gt_label(i) for i in (0, 2)]
    losses = head.loss((aux, out), samples)
    labels = torch.tensor([0, 2])
    assert torch.allclose(losses['aux_head.loss'],
                          0.4 * nn.functional.cross_entropy(head.aux_linear(aux), labels))
    assert torch.allclose(losses['loss'], nn.functional.cross_entropy(head.fc(out), labels))
    assert 'aux_head.accuracy_top-1' in losses
    with pytest.raises(ValueError, match='needs the auxiliary features first'):
        head.loss((out, ), samples)

"""WideResNet: published sizes, shapes, options and a real training step."""
import pytest
import torch
import torch.nn as nn

from mmrazor.models import WideResNet
from mmrazor.registry import MODELS


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('depth,widen,millions,channels', [(16, 2, 0.70, 128),
                                                           (28, 4, 5.87, 256)])
def test_parameter_count_matches_paper(depth, widen, millions, channels):
    # The published sizes (WRN paper, OFD/CRD tables) are CIFAR-100 models.
    backbone = WideResNet(depth, widen_factor=widen)
    assert backbone.feat_dim == channels
    total = _num_params(backbone) + _num_params(nn.Linear(channels, 100))
    assert round(total / 1e6, 2) == millions


def test_output_shapes_and_out_indices():
    x = torch.rand(2, 3, 32, 32)
    last, = WideResNet(16, widen_factor=2)(x)
    assert last.shape == (2, 128, 8, 8)
    assert (last >= 0).all()  # after the final BN + ReLU
    outs = WideResNet(16, widen_factor=2, out_indices=(0, 1, 2))(x)
    assert [o.shape[1:] for o in outs] == [(32, 32, 32), (64, 16, 16), (128, 8, 8)]
    # expansion overrides widen_factor, as in MMRazor 1.x
    assert WideResNet(16, widen_factor=2, expansion=1)(x)[0].shape[1] == 64


def test_mmrazor_module_names_for_ofd_recorders():
    names = dict(WideResNet(16, widen_factor=2).named_modules())
    for name in ('layer2.0.bn1', 'layer3.0.bn1', 'bn1', 'layer1.1.conv2',
                 'layer2.0.downsample'):
        assert name in names
    assert isinstance(names['bn1'], nn.BatchNorm2d)


def test_forward_backward_trains_all_but_frozen_stages():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='WideResNet', depth=16, widen_factor=2,
                              frozen_stages=1, drop_rate=0.3))
    model.init_weights()
    model.train()
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    head = nn.Linear(128, 10)
    opt = torch.optim.SGD(list(model.parameters()) + list(head.parameters()), lr=0.1)
    feats = model(torch.rand(4, 3, 32, 32))[0].mean((2, 3))
    loss = nn.functional.cross_entropy(head(feats), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    opt.step()
    after = model.state_dict()
    assert torch.equal(after['conv1.weight'], frozen['conv1.weight'])
    assert torch.equal(after['layer1.0.conv1.weight'], frozen['layer1.0.conv1.weight'])
    assert not torch.equal(after['layer2.0.conv1.weight'], frozen['layer2.0.conv1.weight'])
    assert not model.layer1.training and model.layer2.training


def test_norm_eval_and_zero_init_residual():
    model = WideResNet(10, widen_factor=1, norm_eval=True, zero_init_residual=True)
    model.init_weights()
    model.train()
    assert all(not m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert torch.count_nonzero(model.layer1[0].bn2.weight) == 0


@pytest.mark.parametrize('kwargs,match', [
    (dict(depth=18), r'6n \+ 4'),
    (dict(depth=16, num_stages=4), 'num_stages must be 1, 2 or 3'),
    (dict(depth=16, out_indices=(3, )), r'out_indices \(3,\) must be stage indices'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WideResNet(**kwargs)

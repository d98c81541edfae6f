"""Fake-quants: torch's reachable by name in MODELS; LearnableFakeQuantize against
torch's fake-quantize, its three modes and LSQ's gradient scaling."""
import math

import pytest
import torch
import torch.ao.quantization.fake_quantize as torch_fake_quantize
from torch import nn
from torch.ao.quantization import disable_observer, enable_observer
from torch.ao.quantization.observer import MinMaxObserver

from mmrazor.models.fake_quants import (
    TORCH_FAKE_QUANTS,
    LearnableFakeQuantize,
    enable_param_learning,
    enable_static_estimate,
    enable_val,
)
from mmrazor.models.observers import LSQObserver, LSQPerChannelObserver
from mmrazor.registry import MODELS

PER_CHANNEL = dict(observer=LSQPerChannelObserver, quant_min=-127, quant_max=127,
                   dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0)


def data(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize('name', ['FakeQuantize', 'FakeQuantizeBase',
                                  'FixedQParamsFakeQuantize', 'FusedMovingAvgObsFakeQuantize'])
def test_every_torch_fake_quant_is_registered_under_its_torch_name(name):
    assert name in TORCH_FAKE_QUANTS
    assert MODELS.get(f'mmrazor.{name}') is getattr(torch_fake_quantize, name)


def test_torch_fake_quant_built_from_config_quantizes_like_torch():
    built = MODELS.build(dict(type='mmrazor.FakeQuantize', observer=MinMaxObserver,
                              quant_min=0, quant_max=255))
    reference = torch_fake_quantize.FakeQuantize(observer=MinMaxObserver, quant_min=0,
                                                 quant_max=255)
    x = data(2, 8, seed=0)
    assert torch.equal(built(x), reference(x))


def test_learnable_fake_quantize_defaults_and_torch_fake_quant_api():
    fq = MODELS.build(dict(type='mmrazor.LearnableFakeQuantize'))
    assert isinstance(fq.activation_post_process,
                      torch.ao.quantization.MovingAverageMinMaxObserver)
    assert (fq.quant_min, fq.quant_max, fq.dtype, fq.qscheme) == (
        0, 255, torch.quint8, torch.per_tensor_affine)
    assert (fq.ch_axis, fq.is_per_channel, fq.use_grad_scaling, fq.zero_point_trainable) == (
        -1, False, True, False)
    assert fq.scale.item() == 1. and fq.zero_point.item() == 0.
    modes = (fq.fake_quant_enabled.item(), fq.static_enabled.item(), fq.learning_enabled.item())
    assert modes == (1, 1, 0)
    # torch's module-level switches (used by QAT loops) drive the static estimate
    nn.Sequential(fq).apply(disable_observer)
    assert (fq.static_enabled.item(), fq.observer_enabled.item()) == (0, 0)
    nn.Sequential(fq).apply(enable_observer)
    assert (fq.static_enabled.item(), fq.observer_enabled.item()) == (1, 1)
    fq.disable_fake_quant()
    x = data(3, 4, seed=1)
    assert torch.equal(fq(x), x)


def test_per_tensor_output_equals_torch_fake_quantize():
    fq = LearnableFakeQuantize(scale=0.05, zero_point=3.)
    fq.enable_val()
    x = data(4, 16, seed=2) * 4
    expected = torch.fake_quantize_per_tensor_affine(x, 0.05, 3, 0, 255)
    torch.testing.assert_close(fq(x), expected, rtol=0, atol=0)
    assert fq.calculate_qparams() == (torch.tensor([0.05]), torch.tensor([3]))


def test_per_channel_static_estimate_then_output_equals_torch_fake_quantize():
    fq = LearnableFakeQuantize(**PER_CHANNEL)
    assert fq.is_per_channel and fq.ch_axis == 0
    weight = data(6, 3, 3, 3, seed=3)
    fq(weight)  # static estimate: LSQ initial scale of each output channel
    expected_scale = torch.stack([2 * w.abs().mean() / math.sqrt(127) for w in weight])
    torch.testing.assert_close(fq.scale.data, expected_scale)
    scale, zero_point = fq.calculate_qparams()
    assert zero_point.dtype == torch.long and torch.equal(zero_point, torch.zeros(6).long())
    fq.enable_val()
    expected = torch.fake_quantize_per_channel_affine(weight, scale, zero_point.int(), 0,
                                                      -127, 127)
    torch.testing.assert_close(fq(weight), expected, rtol=0, atol=0)


def test_static_estimate_follows_the_data_and_val_keeps_the_scale():
    fq = LearnableFakeQuantize(observer=LSQObserver)
    fq.apply(enable_static_estimate)
    for seed, gain in ((4, 1.), (5, 3.)):
        x = data(8, 8, seed=seed).abs() * gain
        fq(x)
        torch.testing.assert_close(fq.scale.data,
                                   torch.tensor([2 * x.abs().mean() / math.sqrt(255)]))
    fq.apply(enable_val)
    before = fq.scale.detach().clone()
    fq(data(8, 8, seed=6) * 10)
    assert torch.equal(fq.scale.detach(), before)


def train_step(fq: LearnableFakeQuantize, x: torch.Tensor) -> torch.Tensor:
    """One SGD step on a loss that prefers a different scale; returns the new scale."""
    optimizer = torch.optim.SGD([p for p in fq.parameters()], lr=1.)
    fq.scale.grad = None
    fq(x).square().sum().backward()
    optimizer.step()
    return fq.scale.detach().clone()


def test_backward_changes_the_scale_only_when_learning():
    # as in a network, the input needs a gradient whatever the mode
    x = (data(4, 16, seed=7).abs() * 2).requires_grad_()
    fq = LearnableFakeQuantize(scale=0.05, zero_point=0.)
    fq.apply(enable_val)
    assert torch.equal(train_step(fq, x), torch.tensor([0.05]))
    assert fq.scale.grad is None
    fq.apply(enable_param_learning)
    assert fq.scale.requires_grad and fq.static_enabled.item() == 0
    assert not torch.equal(train_step(fq, x), torch.tensor([0.05]))
    assert fq.scale.grad is not None
    # the initial mode (static estimate) does not learn either: the observer sets scale
    fresh = LearnableFakeQuantize(scale=0.05)
    fresh.scale.grad = None
    fresh(x).sum().backward()
    assert fresh.scale.grad is None


@pytest.mark.parametrize('cfg', [dict(), PER_CHANNEL], ids=['per_tensor', 'per_channel'])
def test_use_grad_scaling_scales_the_scale_gradient(cfg):
    x = data(4, 3, 5, seed=8) * 2
    grads = {}
    for use_grad_scaling in (True, False):
        fq = LearnableFakeQuantize(use_grad_scaling=use_grad_scaling, **cfg)
        fq(x)  # static estimate sets the same scale in both
        fq.enable_param_learning()
        fq(x).square().sum().backward()
        grads[use_grad_scaling] = fq.scale.grad
    factor = 1 / math.sqrt(x.numel() * fq.quant_max)
    assert grads[False].abs().sum() > 0
    torch.testing.assert_close(grads[True], grads[False] * factor)


def test_zero_point_trainable():
    x = data(4, 16, seed=9) * 2 + 1
    fixed = LearnableFakeQuantize(scale=0.02, zero_point=100.)
    learned = LearnableFakeQuantize(scale=0.02, zero_point=100., zero_point_trainable=True)
    assert 'zero_point' in dict(fixed.named_buffers())
    assert 'zero_point' in dict(learned.named_parameters())
    for fq in (fixed, learned):
        fq.apply(enable_param_learning)
        optimizer = torch.optim.SGD(fq.parameters(), lr=1000.)
        fq(x).square().sum().backward()
        optimizer.step()
        assert set(fq.state_dict()) >= {'scale', 'zero_point', 'static_enabled',
                                        'learning_enabled', 'fake_quant_enabled'}
    assert fixed.zero_point.item() == 100. and learned.zero_point.item() != 100.
    learned.apply(enable_val)
    assert not learned.zero_point.requires_grad


def test_state_dict_round_trip_restores_per_channel_qparams():
    source = LearnableFakeQuantize(**PER_CHANNEL)
    source(data(5, 2, seed=10))
    target = LearnableFakeQuantize(**PER_CHANNEL)
    target.load_state_dict(source.state_dict())
    target.enable_val()
    x = data(5, 2, seed=11)
    source.enable_val()
    assert target.scale.shape == (5, )
    assert torch.equal(target(x), source(x))


def test_bad_arguments_and_unestimated_per_channel_scale_are_clear_errors():
    with pytest.raises(ValueError, match=r'quant_min \(10\) must be less than quant_max \(3\)'):
        LearnableFakeQuantize(quant_min=10, quant_max=3)
    with pytest.raises(ValueError, match=r'\[quant_min, quant_max\] = \[-8, 7\] is out of the '
                       r'range of torch.quint8: \[0, 255\]'):
        LearnableFakeQuantize(observer=LSQObserver, quant_min=-8, quant_max=7)
    fq = LearnableFakeQuantize(**PER_CHANNEL)
    fq.enable_param_learning()
    with pytest.raises(RuntimeError, match=r'1 scale\(s\) for 6 channels .*enable_static_'):
        fq(data(6, 2, seed=12))

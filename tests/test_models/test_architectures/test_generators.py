"""The data-free generators: shapes, latent handling, argument errors, weight names."""
import pytest
import torch

import mmrazor.models.architectures.generators as generators
from mmrazor.registry import MODELS

NAMES = ['DAFLGenerator', 'ZSKTGenerator']


def _build(name: str, **overrides):
    cfg = dict(type=name, img_size=28, latent_dim=16, hidden_channels=32,
               out_channels=1)
    cfg.update(overrides)
    return MODELS.build(cfg)


def test_generators_are_registered_and_exported():
    assert sorted(generators.__all__) == sorted(NAMES + ['BaseGenerator'])
    for name in NAMES:
        assert MODELS.get(f'mmrazor.{name}') is getattr(generators, name)


@pytest.mark.parametrize('name', NAMES)
def test_output_shape_and_latent(name):
    generator = _build(name)
    images = generator(batch_size=4)
    assert images.shape == (4, 1, 28, 28)
    assert torch.isfinite(images).all()
    # the output BN normalizes each channel over the batch in train mode
    assert images.mean().abs() < 1e-4
    latent = torch.randn(3, 16)
    generator.eval()
    assert torch.equal(generator(latent), generator(latent))
    assert generator(latent).shape == (3, 1, 28, 28)
    assert _build(name, out_channels=3, img_size=32)(batch_size=2).shape == (2, 3, 32, 32)


@pytest.mark.parametrize('name', NAMES)
def test_bad_arguments(name):
    with pytest.raises(ValueError, match=r'img_size \(30\).*divisible.*scale_factor'):
        _build(name, img_size=30)
    generator = _build(name)
    with pytest.raises(ValueError, match=r'\(N, 16\).*got \(4, 8\)'):
        generator(torch.randn(4, 8))
    with pytest.raises(ValueError, match=r'\(N, 16\)'):
        generator(torch.randn(16))
    with pytest.raises(TypeError, match='latent_data must be a tensor'):
        generator([0.0] * 16)
    with pytest.raises(ValueError, match='batch_size'):
        generator(batch_size=0)


def test_weight_names_follow_mmrazor():
    dafl = _build('DAFLGenerator').state_dict()
    assert {'linear.weight', 'bn1.running_mean', 'conv_blocks1.0.weight',
            'conv_blocks2.3.weight', 'conv_blocks2.5.running_var'} <= set(dafl)
    assert 'conv_blocks2.5.weight' not in dafl  # the output BN has no affine
    zskt = _build('ZSKTGenerator').state_dict()
    assert {'layers.0.weight', 'layers.2.running_mean', 'layers.11.weight',
            'layers.12.weight'} <= set(zskt)

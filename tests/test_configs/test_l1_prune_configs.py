"""The L1-norm pruning configs build and prune in one real training step: the ResNet-34
ImageNet settings A/B/C reach MMRazor's published FLOPs ratios (3.10 / 2.79 / 3.40 of
3.68 GFLOPs), their deploy configs build the static model at the pruned widths
(rounded up to multiples of 8), and the Fashion-MNIST config halves the teacher's
FLOPs. Pretrained weights are not loaded (init_weights is not called)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.utils import build_model_from_config

from ..conftest import REPO_ROOT

L1_ROOT = osp.join(REPO_ROOT, 'configs', 'pruning', 'mmcls', 'l1-norm')
RESNET34 = 'l1-norm_resnet34_8xb32_in1k_{}.py'
# MMRazor 1.x README: GFLOPs of the pruned models over the 3.68 G of ResNet-34
PUBLISHED_RATIO = dict(a=3.10 / 3.68, b=2.79 / 3.68, c=3.40 / 3.68)


def load(name: str) -> Config:
    return Config.fromfile(osp.join(L1_ROOT, name))


def step(model: torch.nn.Module, size: int, channels: int = 3) -> dict:
    data = dict(inputs=[torch.randint(0, 256, (channels, size, size), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in range(2)])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    losses = model.train_step(data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    changed = [n for n, p in model.named_parameters() if not torch.equal(p, before[n])]
    assert changed, 'the training step changed no weight'
    return losses


@pytest.mark.parametrize('setting', ['a', 'b', 'c'])
def test_resnet34_setting_prunes_to_the_published_flops(setting):
    cfg = load(RESNET34.format(setting))
    algorithm = build_model_from_config(cfg)
    full = get_model_flops_params(algorithm.architecture, units=None)[0]
    assert full == pytest.approx(3.68e9, rel=0.01)
    losses = step(algorithm, 64)
    assert torch.isfinite(losses['loss'])
    assert algorithm.mutator.current_choices == pytest.approx(cfg.model.target_pruning_ratio,
                                                              abs=1 / 64)
    pruned = get_model_flops_params(algorithm.architecture, units=None)[0]
    assert pruned / full == pytest.approx(PUBLISHED_RATIO[setting], abs=0.01)


@pytest.mark.parametrize('setting', ['a', 'b', 'c'])
def test_resnet34_deploy_config_builds_the_pruned_static_model(setting):
    cfg = load(RESNET34.format(f'{setting}_deploy'))
    model = build_model_from_config(cfg)
    ratios = cfg.model.fix_subnet
    conv = model.backbone.layer2[1].conv1
    assert type(conv) is torch.nn.Conv2d
    ratio = ratios['backbone.layer2.1.conv1_(0, 128)_128']
    assert conv.out_channels == -(-round(128 * ratio) // 8) * 8  # rounded up to 8
    # rounding widths up to multiples of 8 gives back a few channels (A: +2.3%)
    flops = get_model_flops_params(model, units=None)[0] / 3.68e9
    assert PUBLISHED_RATIO[setting] - 0.01 < flops < PUBLISHED_RATIO[setting] + 0.03
    step(model, 64)


def test_fashion_mnist_config_halves_the_teacher_flops():
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs/pruning/fashion_mnist/l1-norm/'
                                   'l1-norm_resnet14-w32_1xb128_fashion-mnist.py'))
    assert cfg.val_cfg.type == 'mmrazor.ItePruneValLoop'
    assert {h.type for h in cfg.custom_hooks} == {'mmrazor.PruningStructureHook',
                                                 'mmrazor.ResourceInfoHook'}
    algorithm = build_model_from_config(cfg)
    shape = (1, 1, 28, 28)
    full = get_model_flops_params(algorithm.architecture, input_shape=shape, units=None)[0]
    step(algorithm, 28, channels=1)
    pruned = get_model_flops_params(algorithm.architecture, input_shape=shape, units=None)[0]
    assert pruned / full == pytest.approx(0.51, abs=0.01)

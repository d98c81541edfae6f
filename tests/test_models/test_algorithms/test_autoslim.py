"""AutoSlim on mmpretrain's MobileNetV2: in a real Runner each step trains the widest
network on the labels and the narrowest and random widths by in-place distillation,
with one optimizer step; ``accumulative_counts`` equal to the number of subnets
averages their gradients (MMRazor's configs) instead of summing them;
``norm_training`` keeps batch norms on batch statistics in eval mode; the AutoSlim
config trains a step."""
import inspect
import os.path as osp
import random
from typing import Dict, List

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner

from mmrazor.models import AutoSlim
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ...conftest import REPO_ROOT
from ..test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401
from .test_bignas import DISTILLER, batch

CONFIG = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'autoslim',
                  'autoslim_mbv2_1.5x_supernet_8xb256_in1k.py')


def autoslim_cfg(**kwargs) -> dict:
    cfg = dict(
        _scope_='mmrazor', type='AutoSlim',
        architecture=dict(
            _scope_='mmpretrain', type='ImageClassifier',
            data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10,
                                   mean=[72.94] * 3, std=[90.02] * 3),
            backbone=dict(type='MobileNetV2', widen_factor=0.5),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=1280)),
        distiller=DISTILLER,
        mutator=dict(type='OneShotChannelMutator', channel_unit_cfg=dict(
            type='OneShotMutableChannelUnit',
            default_args=dict(candidate_choices=[0.5, 0.75, 1.0], choice_mode='ratio',
                              divisor=8)),
            parse_cfg=dict(type='ChannelAnalyzer', demo_input=(1, 3, 32, 32),
                           tracer_type='BackwardTracer')))
    cfg.update(kwargs)
    return cfg


def autoslim(**kwargs) -> AutoSlim:
    torch.manual_seed(0)
    return MODELS.build(autoslim_cfg(**kwargs))


def kept_channels(model: AutoSlim) -> Dict[str, int]:
    """The channels each unit keeps (ratios that round to one width are one width)."""
    return {unit.name: unit.mutable_channel.activated_channels
            for unit in model.mutator.mutable_units}


class WidthRecorder(Hook):
    """Records the widths of every forward and the optimizer steps."""

    def __init__(self) -> None:
        self.widths: List[Dict] = []
        self.steps = 0

    def before_train(self, runner) -> None:
        model = runner.model
        model.architecture.backbone.register_forward_pre_hook(
            lambda *_: self.widths.append(kept_channels(model)))
        runner.optim_wrapper.optimizer.register_step_post_hook(self._count)
        self.head = model.architecture.head.fc.weight.detach().clone()

    def _count(self, *_) -> None:
        self.steps += 1


def test_runner_step_trains_the_sandwich_of_widths(tmp_path, fashion_mnist_root):
    data = dict(batch_size=4, num_workers=0, sampler=dict(type='DefaultSampler',
                                                         shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=fashion_mnist_root,
                             split='test', indices=4,
                             pipeline=[dict(type='mmpretrain.PackInputs')]))
    runner = Runner.from_cfg(Config(dict(
        model=autoslim_cfg(), work_dir=str(tmp_path), default_scope='mmrazor',
        experiment_name='autoslim_sandwich', train_dataloader=data,
        train_cfg=dict(by_epoch=False, max_iters=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)), randomness=dict(seed=0),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                           save_last=False)))))
    recorder = WidthRecorder()
    runner.register_hook(recorder)
    runner.train()
    model = runner.model
    widths = recorder.widths
    assert len(widths) == 4 and recorder.steps == 1
    model.set_subnet('max')
    widest = kept_channels(model)
    model.set_subnet('min')
    narrowest = kept_channels(model)
    assert widths[0] == widest and widths[1] == narrowest and widest != narrowest
    assert all(w not in (widest, narrowest) for w in widths[2:])
    assert {'train/max_subnet.loss', 'train/min_subnet.loss_kl',
            'train/random1_subnet.loss_kl'} <= set(runner.message_hub.log_scalars)
    assert not torch.equal(recorder.head, runner.model.architecture.head.fc.weight)
    assert MODEL_WRAPPERS.get('AutoSlimDDP') is MODEL_WRAPPERS.get('AlgorithmDDP')


def _update(accumulative_counts: int) -> torch.Tensor:
    model = autoslim()
    before = model.architecture.head.fc.weight.detach().clone()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.),
                           accumulative_counts=accumulative_counts)
    random.seed(0)  # the same random widths
    model.train_step(batch(), wrapper)
    return model.architecture.head.fc.weight.detach() - before


def test_accumulative_counts_average_the_subnets_gradients():
    summed, averaged = _update(1), _update(4)
    assert summed.abs().sum() > 0
    assert torch.allclose(averaged, summed / 4, atol=1e-6)
    wrapper = OptimWrapper(torch.optim.SGD(autoslim().parameters(), lr=1.),
                           accumulative_counts=3)
    with pytest.raises(ValueError, match='accumulative_counts must be 1 .* or 4 .* got 3'):
        autoslim().train_step(batch(), wrapper)


def test_norm_training_and_bad_mutators():
    params = inspect.signature(AutoSlim).parameters
    assert list(params) == ['architecture', 'mutator', 'distiller', 'norm_training',
                            'data_preprocessor', 'num_random_samples', 'init_cfg']
    assert params['norm_training'].default is False
    assert params['num_random_samples'].default == 2
    model = autoslim(norm_training=True).eval()
    norms = [m for m in model.architecture.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.training for m in norms)
    assert not autoslim().eval().architecture.backbone.conv1.bn.training
    with pytest.raises(TypeError, match='AutoSlim needs a mutator of type '
                       'OneShotChannelMutator .* got NasMutator'):
        autoslim(mutator=dict(type='mmrazor.NasMutator'))


def test_autoslim_config_trains_a_step(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(CONFIG)
    assert cfg.optim_wrapper.accumulative_counts == 4
    assert cfg.model_wrapper_cfg.type == 'mmrazor.AutoSlimDDP'
    cfg.model.mutator.parse_cfg.demo_input = (1, 3, 32, 32)  # the trace, faster
    # the config's ImgDataPreprocessor wants 3-channel images; mmpretrain's broadcasts
    # grey Fashion-MNIST to three channels
    cfg.model.data_preprocessor = dict(type='mmpretrain.ClsDataPreprocessor',
                                       mean=cfg.model.data_preprocessor.mean,
                                       std=cfg.model.data_preprocessor.std)
    cfg.train_dataloader.update(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset = dict(
        type='mmrazor.OfflineFashionMNIST', data_root=fashion_mnist_root, split='test',
        indices=2, pipeline=[dict(type='mmpretrain.PackInputs')])
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1)
    cfg.default_hooks.checkpoint = None
    cfg.work_dir, cfg.experiment_name = str(tmp_path), 'autoslim_config'
    runner = Runner.from_cfg(cfg)
    model = runner.model
    assert isinstance(model, AutoSlim) and len(model.mutator.mutable_units) == 25
    unit = model.mutator.mutable_units[0]
    assert unit.candidate_choices == [i / 12 for i in range(2, 13)]
    before = model.architecture.head.fc.weight.detach().clone()
    runner.train()
    assert not torch.equal(before, model.architecture.head.fc.weight)
    assert 'train/min_subnet.loss_kl' in runner.message_hub.log_scalars

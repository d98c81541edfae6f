"""Pruning in real MMEngine Runners on Fashion-MNIST (64 images, ResNet-14 w32):
ItePruneAlgorithm prunes by epoch through the message hub, PruningStructureHook logs
each structure, ResourceInfoHook logs FLOPs, checkpoints at thresholds and stops
training, ItePruneValLoop saves a subnet whose static weights reproduce the model."""
import glob
import json
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine.runner import prune_val_loop
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import HOOKS, MODELS
from mmrazor.structures import export_fix_subnet
from mmrazor.utils.weights import load_weights

from ..conftest import REPO_ROOT

TEACHER = osp.join(REPO_ROOT, 'configs/vanilla/fashion_mnist/'
                   'resnet14-w32_1xb128_fashion-mnist.py')
SHAPE = (1, 1, 28, 28)
INNER = ['backbone.layer1.0.conv1_(0, 32)_32', 'backbone.layer2.1.conv1_(0, 64)_64',
         'backbone.layer3.1.conv1_(0, 128)_128']


def pruning_cfg(data_root: str, work_dir: str, hooks: list, **algorithm) -> Config:
    cfg = Config.fromfile(TEACHER)
    architecture = cfg.model.to_dict()
    cfg.model = dict(
        type='mmrazor.ItePruneAlgorithm', architecture=architecture,
        mutator_cfg=dict(type='ChannelMutator', channel_unit_cfg=dict(
            type='L1MutableChannelUnit', default_args=dict(choice_mode='ratio')),
            parse_cfg=dict(type='ChannelAnalyzer', demo_input=SHAPE,
                           tracer_type='FxTracer')),
        target_pruning_ratio={name: 0.25 for name in INNER}, **algorithm)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'prune_{osp.basename(work_dir)}'
    cfg.train_cfg.max_epochs = 2
    cfg.param_scheduler = []
    cfg.val_cfg = dict(type='mmrazor.ItePruneValLoop')
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = data_root
        loader.dataset.indices = 64
        loader.num_workers, loader.persistent_workers, loader.batch_size = 0, False, 32
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.custom_hooks = hooks
    return cfg


def log_of(runner: Runner) -> str:
    return open(glob.glob(osp.join(runner.log_dir, '*.log'))[0]).read()


def test_runner_prunes_by_epoch_logs_checkpoints_and_saves_the_subnet(
        tmp_path, fashion_mnist_root):
    hooks = [dict(type='mmrazor.PruningStructureHook'),
             dict(type='mmrazor.ResourceInfoHook', demo_input=SHAPE, interval=1,
                  save_ckpt_thr=[0.9, 0.75], early_stop=False)]
    cfg = pruning_cfg(fashion_mnist_root, str(tmp_path), hooks, step_freq=1, prune_times=2)
    runner = Runner.from_cfg(cfg)
    runner.train()  # 2 epochs of 2 iterations: pruned at iterations 0 and 2
    log = log_of(runner)
    structures = [json.loads(s) for s in re.findall(r'Pruning structure after epoch \d: '
                                                    r'(\{.*\})', log)]
    assert [[s[n] for n in INNER] for s in structures] == [[0.625] * 3, [0.25] * 3]
    assert re.findall(r'pruning step (\d)/2 at iteration (\d)', log) == [('1', '0'),
                                                                         ('2', '2')]
    ratios = [float(r) for r in re.findall(r'([\d.]+) of the original flops', log)]
    assert len(ratios) == 4 and ratios[0] == ratios[1] > ratios[2] == ratios[3]
    assert 0.75 < ratios[0] < 0.9 and ratios[2] < 0.75
    algorithm = runner.model
    # flops_0.90.pth at the first step, flops_0.75.pth at the second: each keeps its
    # pruned structure, so a fresh algorithm loaded from it counts those FLOPs
    fresh = MODELS.build(cfg.model)
    full = get_model_flops_params(fresh.architecture, input_shape=SHAPE, units=None)[0]
    for name, ratio in (('flops_0.90.pth', ratios[0]), ('flops_0.75.pth', ratios[2])):
        fresh.load_state_dict(load_weights(str(tmp_path / name))['state_dict'])
        now = get_model_flops_params(fresh.architecture, input_shape=SHAPE, units=None)[0]
        assert now / full == pytest.approx(ratio, abs=1e-3)
    # the subnet saved by the last validation is the final structure
    subnet = json.load(open(tmp_path / 'fix_subnet.json'))
    assert {n: subnet['channel_unit_cfg']['units'][n]['choice'] for n in INNER} == \
        {n: 0.25 for n in INNER}
    state = torch.load(tmp_path / 'fix_subnet_weight.pth', weights_only=True)['state_dict']
    algorithm.eval()
    _, static = export_fix_subnet(algorithm, 'mutator', slice_weight=True)
    static.load_state_dict(state)
    static.eval()
    x = torch.randn(4, *SHAPE[1:])
    torch.testing.assert_close(static(x), algorithm(x), rtol=0, atol=1e-5)
    assert not glob.glob(str(tmp_path / '*.tmp'))
    # the pair deploys: sub_model rebuilds the structure from the JSON, then the weights
    deployed = MODELS.build(dict(type='mmrazor.sub_model', cfg=cfg.model.architecture,
                                 fix_subnet=str(tmp_path / 'fix_subnet.json'),
                                 mode='mutator'))
    deployed.load_state_dict(state)
    deployed.eval()
    torch.testing.assert_close(deployed(x), algorithm(x), rtol=0, atol=1e-5)


def test_resource_hook_stops_an_iteration_loop_after_the_last_threshold(
        tmp_path, fashion_mnist_root):
    hooks = [dict(type='mmrazor.ResourceInfoHook', demo_input=SHAPE, interval=1,
                  save_ckpt_thr=[0.8])]
    cfg = pruning_cfg(fashion_mnist_root, str(tmp_path), hooks)
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=20, val_interval=100)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1  # pruned at iteration 0, below 0.8, stopped
    assert osp.isfile(tmp_path / 'flops_0.80.pth')
    assert 'every threshold passed, stopping training' in log_of(runner)


def test_val_loop_writes_nothing_when_saving_fails(tmp_path, fashion_mnist_root, monkeypatch):
    runner = Runner.from_cfg(pruning_cfg(fashion_mnist_root, str(tmp_path), []))

    def failing_save(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(prune_val_loop.torch, 'save', failing_save)
    with pytest.raises(OSError, match='disk full'):
        runner.val()
    assert not [f for f in os.listdir(tmp_path) if f.startswith('fix_subnet')]


def test_hooks_check_their_arguments_and_model(tmp_path, fashion_mnist_root):
    for kwargs, match in ((dict(resource_type='latency'), 'resource_type must be one of'),
                          (dict(save_ckpt_thr=[1.5]), r'in \(0, 1\]'),
                          (dict(interval=0), 'interval must be a positive int'),
                          (dict(demo_input='big'), 'demo_input must be')):
        with pytest.raises((ValueError, TypeError), match=match):
            HOOKS.build(dict(type='mmrazor.ResourceInfoHook', **kwargs))
    hook = HOOKS.build(dict(type='mmrazor.ResourceInfoHook'))
    assert (hook.input_shape, hook.interval, hook.resource_type, hook.save_ckpt_thr,
            hook.early_stop) == ((1, 3, 224, 224), 10, 'flops', [0.5], True)
    cfg = pruning_cfg(fashion_mnist_root, str(tmp_path),
                      [dict(type='mmrazor.PruningStructureHook')])
    cfg.model = Config.fromfile(TEACHER).model
    cfg.val_cfg = dict()
    with pytest.raises(TypeError, match='needs a pruning algorithm'):
        Runner.from_cfg(cfg).train()

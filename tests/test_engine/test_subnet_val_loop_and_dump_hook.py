"""``SubnetValLoop`` validates the largest and smallest subnets of a SPOS supernet after
BN recalibration (prefixed metrics, their FLOPs, the supernet's choices restored) or a
fixed subnet once; ``DumpSubnetHook`` writes loadable subnet YAMLs by epoch or
iteration, keeps the newest ``max_keep_subnets`` and leaves the model's choices alone."""
import os
import os.path as osp

import pytest
import torch
import yaml
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.engine.hooks import DumpSubnetHook
from mmrazor.registry import MODELS

from .spos_search_helpers import loader, runner_cfg, tiny_supernet


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def val_runner(work_dir: str, data_root: str, **loop) -> Runner:
    loop = dict(type='mmrazor.SubnetValLoop', calibrate_sample_num=16,
                estimator_cfg=dict(input_shape=(1, 3, 28, 28)), **loop)
    return Runner.from_cfg(runner_cfg(
        work_dir, data_root, dict(by_epoch=True, max_epochs=1),
        val_dataloader=loader(data_root, 32), val_evaluator=dict(type='mmpretrain.Accuracy'),
        val_cfg=loop))


def test_max_and_min_subnets_are_validated_after_recalibration(tmp_path, fashion_mnist_root):
    runner = val_runner(str(tmp_path), fashion_mnist_root)
    mutator = runner.model.mutator
    mutator.set_choices(mutator.sample_choices())
    before = mutator.current_choices
    stem_bn = runner.model.architecture.backbone.conv1.bn
    initial_mean = stem_bn.running_mean.clone()
    metrics = runner.val()
    assert set(metrics) == {f'{kind}_subnet.{key}' for kind in ('max', 'min')
                            for key in ('accuracy/top1', 'flops', 'params', 'latency')}
    assert metrics['max_subnet.flops'] > metrics['min_subnet.flops'] > 0
    assert mutator.current_choices == before
    assert not torch.equal(stem_bn.running_mean, initial_mean)  # recalibrated


def test_a_fixed_subnet_is_validated_once(tmp_path, fashion_mnist_root):
    subnet = {f'backbone.layers.{s}.{b}': {'chosen': 'shuffle_3x3'}
              for s in range(2) for b in range(2)}
    cfg = runner_cfg(str(tmp_path), fashion_mnist_root, dict(by_epoch=True, max_epochs=1),
                     val_dataloader=loader(fashion_mnist_root, 32),
                     val_evaluator=dict(type='mmpretrain.Accuracy'),
                     val_cfg=dict(type='mmrazor.SubnetValLoop', evaluate_fixed_subnet=True,
                                  calibrate_sample_num=-1,
                                  estimator_cfg=dict(input_shape=(1, 3, 28, 28))))
    cfg.model = dict(type='sub_model', cfg=tiny_supernet(), fix_subnet=subnet)
    metrics = Runner.from_cfg(cfg).val()
    assert set(metrics) == {'fix_subnet.accuracy/top1', 'fix_subnet.flops',
                            'fix_subnet.params', 'fix_subnet.latency'}
    with pytest.raises(AttributeError, match='Set evaluate_fixed_subnet=True'):
        cfg.val_cfg.evaluate_fixed_subnet = False
        cfg.work_dir = str(tmp_path / 'again')
        Runner.from_cfg(cfg).val()


def test_dump_subnet_hook_by_epoch_keeps_the_newest(tmp_path, fashion_mnist_root):
    cfg = runner_cfg(str(tmp_path), fashion_mnist_root, dict(by_epoch=True, max_epochs=3),
                     custom_hooks=[dict(type='mmrazor.DumpSubnetHook', interval=1,
                                        max_keep_subnets=2)])
    runner = Runner.from_cfg(cfg)
    runner.train()
    dumped = sorted(f for f in os.listdir(str(tmp_path)) if f.endswith('.yaml'))
    assert dumped == ['subnet_epoch_2.yaml', 'subnet_epoch_3.yaml']
    with DefaultScope.overwrite_default_scope('mmrazor'):
        subnet = MODELS.build(dict(type='sub_model', cfg=tiny_supernet(),
                                   fix_subnet=str(tmp_path / 'subnet_epoch_3.yaml')))
    with open(tmp_path / 'subnet_epoch_3.yaml') as f:
        chosen = {k: v['chosen'] for k, v in yaml.safe_load(f).items()}
    assert {name: m.current_choice for name, m in subnet.named_modules()
            if name in chosen} == chosen

    hook = [h for h in runner.hooks if isinstance(h, DumpSubnetHook)][0]
    mutator = runner.model.mutator
    mutator.set_choices(mutator.min_choices)
    hook._save_subnet(runner, 9)
    assert mutator.current_choices == mutator.min_choices  # the model's path is kept
    assert osp.isfile(tmp_path / 'subnet_epoch_9.yaml')


def test_dump_subnet_hook_by_iteration(tmp_path, fashion_mnist_root):
    cfg = runner_cfg(str(tmp_path), fashion_mnist_root, dict(by_epoch=False, max_iters=4),
                     custom_hooks=[dict(type='mmrazor.DumpSubnetHook', interval=3,
                                        by_epoch=False, out_dir=str(tmp_path / 'out'))])
    Runner.from_cfg(cfg).train()
    assert sorted(os.listdir(tmp_path / 'out' / tmp_path.name)) == [
        'subnet_iter_3.yaml', 'subnet_iter_4.yaml']
    with pytest.raises(TypeError, match=r"unknown arguments \['intervall'\]"):
        DumpSubnetHook(intervall=3)

"""EstimateResourcesHook in a real Runner on Fashion-MNIST: logged at the start of
training and after validation, for the model that deploys (a KD student, not its
teacher)."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import HOOKS

from ..kd_helpers import KD_CONFIG, kd_model_cfg


def small_kd_cfg(data_root: str, work_dir: str, hook: dict) -> Config:
    cfg = Config.fromfile(KD_CONFIG)
    cfg.model = kd_model_cfg()
    cfg.work_dir = work_dir
    # unique per run: MMEngine shares one logger (and its log file) per experiment name,
    # which is a timestamp, so two runners made in the same second would share a file
    cfg.experiment_name = f'kd_{osp.basename(work_dir)}'
    cfg.train_cfg.max_epochs = 2
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = data_root
        loader.dataset.indices = 64
        loader.num_workers, loader.persistent_workers, loader.batch_size = 0, False, 32
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1)
    cfg.custom_hooks = [hook]
    return cfg


def test_hook_logs_student_resources_at_start_and_after_each_val(tmp_path, fashion_mnist_root):
    hook = dict(type='mmrazor.EstimateResourcesHook', interval=1,
                estimator_cfg=dict(input_shape=(1, 1, 28, 28)))
    runner = Runner.from_cfg(small_kd_cfg(fashion_mnist_root, str(tmp_path), hook))
    runner.train()
    log = open(glob.glob(osp.join(runner.log_dir, '*.log'))[0]).read()
    lines = re.findall(r'Resources of ImageClassifier (.*?): (\{.*?\})', log)
    assert [when for when, _ in lines] == ['before training', 'after epoch 1',
                                           'after epoch 2']
    student = runner.model.architecture
    flops, params = get_model_flops_params(student, input_shape=(1, 1, 28, 28))
    assert lines[0][1] == str(dict(flops=flops, params=params, latency=0.0))
    teacher_params = sum(p.numel() for p in runner.model.teacher.parameters())
    assert params * 1e6 < teacher_params  # the student was measured, not the whole algorithm


def test_hook_checks_its_interval():
    with pytest.raises(ValueError, match='interval must be a positive int or -1'):
        HOOKS.build(dict(type='EstimateResourcesHook', interval=0))
    hook = HOOKS.build(dict(type='EstimateResourcesHook',
                            estimator_cfg=dict(input_shape=(1, 3, 32, 32))))
    assert hook.estimator.input_shape == (1, 3, 32, 32) and hook.interval == -1


def test_hook_by_iteration(tmp_path, fashion_mnist_root):
    hook = dict(type='mmrazor.EstimateResourcesHook', interval=3, by_epoch=False,
                estimator_cfg=dict(input_shape=(1, 1, 28, 28)))
    runner = Runner.from_cfg(small_kd_cfg(fashion_mnist_root, str(tmp_path), hook))
    runner.train()  # 2 epochs of 2 iterations
    log = open(glob.glob(osp.join(runner.log_dir, '*.log'))[0]).read()
    whens = re.findall(r'Resources of ImageClassifier (.*?): \{', log)
    assert whens == ['before training', 'after iteration 3']

"""The distillation val loops inside a real MMEngine Runner on Fashion-MNIST slices:
the figures they report are those of the teacher and the student evaluated alone."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.utils.weights import load_weights

from ..conftest import REPO_ROOT
from ..kd_helpers import KD_CONFIG, STUDENT_MODEL_CFG

TEACHER_CONFIG = osp.join(REPO_ROOT, 'configs/vanilla/fashion_mnist/'
                          'resnet14-w32_1xb128_fashion-mnist.py')
STUDENT_CONFIG = osp.join(REPO_ROOT, 'configs/vanilla/fashion_mnist/'
                          'resnet14-w16_1xb128_fashion-mnist.py')


def _runner(cfg: Config, model: dict, val_loop: str, work_dir: str, data_root: str,
            train_images: int = 64) -> Runner:
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False, batch_size=32)
        cfg[loader].dataset.update(data_root=data_root, indices=128)
    cfg.train_dataloader.dataset.indices = train_images
    cfg['model'] = model  # replace, not merge into, the config's algorithm
    # a unique experiment name: MMEngine shares one logger per name (a timestamp)
    cfg.update(work_dir=work_dir, experiment_name=f'val_{osp.basename(work_dir)}',
               val_cfg=dict(type=val_loop),
               train_cfg=dict(by_epoch=True, max_epochs=1, val_interval=1))
    cfg.param_scheduler = None
    cfg.randomness = dict(seed=0)
    cfg.default_hooks.checkpoint.save_best = None
    return Runner.from_cfg(cfg)


@pytest.fixture(scope='module')
def trained_teacher(tmp_path_factory, fashion_mnist_root):
    """A teacher trained one short epoch, and its accuracy when MMEngine's test loop
    evaluates it alone."""
    work_dir = str(tmp_path_factory.mktemp('teacher'))
    cfg = Config.fromfile(TEACHER_CONFIG)
    runner = _runner(cfg, cfg.model.to_dict(), 'ValLoop', work_dir, fashion_mnist_root,
                     train_images=256)
    runner.train()
    accuracy = runner.test()['accuracy/top1']
    return osp.join(work_dir, 'epoch_1.pth'), accuracy


def test_single_teacher_val_loop_reports_the_teacher_alone(tmp_path, fashion_mnist_root,
                                                          trained_teacher):
    ckpt, teacher_accuracy = trained_teacher
    cfg = Config.fromfile(KD_CONFIG)
    model = cfg.model.to_dict()
    model['teacher_ckpt'] = ckpt
    torch.manual_seed(0)
    runner = _runner(cfg, model, 'mmrazor.SingleTeacherDistillValLoop', str(tmp_path),
                     fashion_mnist_root)
    metrics = runner.val_loop.run()
    assert set(metrics) == {'accuracy/top1', 'teacher.accuracy/top1'}
    assert metrics['teacher.accuracy/top1'] == pytest.approx(teacher_accuracy)
    # the untrained student is evaluated first, on the same images
    assert metrics['accuracy/top1'] != pytest.approx(teacher_accuracy)


def test_self_distill_val_loop_reports_the_student(tmp_path, fashion_mnist_root,
                                                   trained_teacher):
    """A SelfDistill whose architecture holds trained weights reports, as
    ``student.``, the accuracy of that network evaluated alone."""
    ckpt, accuracy = trained_teacher
    cfg = Config.fromfile(KD_CONFIG)
    fc = dict(fc=dict(type='ModuleOutputs', source='head.fc'))
    model = dict(
        _scope_='mmrazor', type='SelfDistill', data_preprocessor=cfg.data_preprocessor,
        architecture=dict(cfg_path=osp.join(REPO_ROOT, 'configs/_base_/models/'
                                            'resnet14-w32_fashion-mnist.py')),
        distiller=dict(
            type='BYOTDistiller', student_recorders=fc, teacher_recorders=fc,
            distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4)),
            loss_forward_mappings=dict(loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))
    runner = _runner(cfg, model, 'mmrazor.SelfDistillValLoop', str(tmp_path),
                     fashion_mnist_root)
    state = load_weights(ckpt, map_location='cpu')['state_dict']  # weights only
    runner.model.architecture.load_state_dict(state)
    metrics = runner.val_loop.run()
    assert set(metrics) == {'student.accuracy/top1'}
    assert metrics['student.accuracy/top1'] == pytest.approx(accuracy)


def test_single_teacher_val_loop_needs_a_teacher(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(KD_CONFIG)
    model = dict(_scope_='mmrazor', type='BaseAlgorithm', data_preprocessor=cfg.data_preprocessor,
                 architecture=dict(cfg_path=STUDENT_MODEL_CFG))
    runner = _runner(cfg, model, 'mmrazor.SingleTeacherDistillValLoop', str(tmp_path),
                     fashion_mnist_root)
    with pytest.raises(AttributeError, match='needs a model with a "teacher"'):
        runner.val_loop  # the loop is built lazily

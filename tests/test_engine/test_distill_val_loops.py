"""The distillation val loops inside a real MMEngine Runner on Fashion-MNIST slices."""
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from ..kd_helpers import KD_CONFIG, STUDENT_MODEL_CFG


def _runner(cfg: Config, model: dict, val_loop: str, work_dir: str, data_root: str) -> Runner:
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(num_workers=0, persistent_workers=False, batch_size=32)
        cfg[loader].dataset.update(data_root=data_root, indices=64)
    cfg['model'] = model  # replace, not merge into, the config's algorithm
    cfg.update(work_dir=work_dir, val_cfg=dict(type=val_loop),
               train_cfg=dict(by_epoch=True, max_epochs=1, val_interval=1))
    cfg.default_hooks.checkpoint.save_best = None
    return Runner.from_cfg(cfg)


def test_single_teacher_val_loop_reports_teacher(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(KD_CONFIG)
    model = cfg.model.to_dict()
    model['teacher_ckpt'] = None
    runner = _runner(cfg, model, 'mmrazor.SingleTeacherDistillValLoop', str(tmp_path),
                     fashion_mnist_root)
    metrics = runner.val_loop.run()
    assert set(metrics) == {'accuracy/top1', 'teacher.accuracy/top1'}
    assert 0 <= metrics['teacher.accuracy/top1'] <= 100


def test_self_distill_val_loop_prefixes_student(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(KD_CONFIG)
    model = dict(_scope_='mmrazor', type='BaseAlgorithm', data_preprocessor=cfg.data_preprocessor,
                 architecture=dict(cfg_path=STUDENT_MODEL_CFG))
    runner = _runner(cfg, model, 'mmrazor.SelfDistillValLoop', str(tmp_path),
                     fashion_mnist_root)
    assert set(runner.val_loop.run()) == {'student.accuracy/top1'}


def test_single_teacher_val_loop_needs_a_teacher(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(KD_CONFIG)
    model = dict(_scope_='mmrazor', type='BaseAlgorithm', data_preprocessor=cfg.data_preprocessor,
                 architecture=dict(cfg_path=STUDENT_MODEL_CFG))
    runner = _runner(cfg, model, 'mmrazor.SingleTeacherDistillValLoop', str(tmp_path),
                     fashion_mnist_root)
    with pytest.raises(AttributeError, match='needs a model with a "teacher"'):
        runner.val_loop  # the loop is built lazily

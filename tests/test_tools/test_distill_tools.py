"""Distillation end to end through the tools: DDP training, resume, stop hook, export.

Real runs on small Fashion-MNIST slices, with a teacher checkpoint written to disk.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.runner import save_checkpoint

from mmrazor.registry import MODELS

from ..kd_helpers import KD_CONFIG, STUDENT_MODEL_CFG, TEACHER_MODEL_CFG, kd_model_cfg
from .test_train_test import assert_ok, run_tool, small_run_options


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    teacher = MODELS.build(dict(cfg_path=TEACHER_MODEL_CFG))
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    save_checkpoint({'state_dict': teacher.state_dict()}, path)
    return path


@pytest.fixture(scope='module')
def ddp_run(tmp_path_factory, fashion_mnist_root, teacher_ckpt):
    """Two gloo processes train the KD config for one epoch."""
    work_dir = str(tmp_path_factory.mktemp('kd_ddp'))
    log = assert_ok(run_tool(
        ['bash', 'tools/dist_train.sh', KD_CONFIG, '2', '--work-dir', work_dir]
        + small_run_options(fashion_mnist_root) + [f'model.teacher_ckpt={teacher_ckpt}']))
    return work_dir, log


def test_ddp_kd_trains_and_reports_teacher_metrics(ddp_run):
    work_dir, log = ddp_run
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert 'distill.loss_kl' in log and 'student.loss' in log
    assert 'teacher.accuracy/top1' in log
    assert 'Distributed training: True' in log


def test_resume_with_stop_distill_hook(ddp_run, fashion_mnist_root, teacher_ckpt, tmp_path):
    work_dir, _ = ddp_run
    config = tmp_path / 'kd_stop.py'
    config.write_text(f"_base_ = ['{KD_CONFIG}']\n"
                      "custom_hooks = [dict(type='mmrazor.StopDistillHook', stop_epoch=1)]\n")
    log = assert_ok(run_tool(
        [sys.executable, 'tools/train.py', str(config), '--work-dir', work_dir, '--resume']
        + small_run_options(fashion_mnist_root, epochs=2)
        + [f'model.teacher_ckpt={teacher_ckpt}']))
    assert 'resumed epoch: 1' in log
    assert 'Distillation stopped at epoch 1' in log
    state = torch.load(osp.join(work_dir, 'epoch_2.pth'), weights_only=False)
    assert bool(state['state_dict']['distillation_stopped'])


def test_converted_student_loads_without_mmrazor(ddp_run, tmp_path):
    work_dir, _ = ddp_run
    student_ckpt = tmp_path / 'student.pth'
    assert_ok(run_tool([sys.executable, 'tools/model_converters/convert_kd_ckpt_to_student.py',
                        osp.join(work_dir, 'epoch_1.pth'), str(student_ckpt)]))
    algo = MODELS.build(kd_model_cfg())
    state = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=False)['state_dict']
    algo.load_state_dict(state)
    algo.eval()
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = algo.student(x, mode='tensor')
    torch.save({'x': x, 'expected': expected}, tmp_path / 'io.pth')
    script = f"""
import sys, torch
from mmengine.config import Config
from mmengine.registry import MODELS
import mmpretrain  # noqa: F401
cfg = Config.fromfile({STUDENT_MODEL_CFG!r})
model = MODELS.build(cfg.model)
ckpt = torch.load({str(student_ckpt)!r}, weights_only=False)
model.load_state_dict(ckpt['state_dict'], strict=True)
model.eval()
io = torch.load({str(tmp_path / 'io.pth')!r})
with torch.no_grad():
    out = model(io['x'], mode='tensor')
assert not [m for m in sys.modules if m.startswith('mmrazor')]
print('max abs diff', float((out - io['expected']).abs().max()))
"""
    out = assert_ok(subprocess.run([sys.executable, '-c', script], capture_output=True,
                                   text=True, cwd=str(tmp_path), timeout=300))
    assert 'max abs diff 0.0' in out


def test_converter_rejects_non_algorithm_checkpoint(teacher_ckpt, tmp_path):
    proc = run_tool([sys.executable, 'tools/model_converters/convert_kd_ckpt_to_student.py',
                     teacher_ckpt, str(tmp_path / 'out.pth')])
    assert proc.returncode != 0 and 'No "architecture.*" weights' in proc.stderr
    assert not (tmp_path / 'out.pth').exists()


"""tools/train.py, tools/test.py and print_config.py as a user runs them, on real data.

Each run trains the vanilla Fashion-MNIST student on a small slice so that it takes
seconds; the full-data figures are in docs/en/get_started.md.
"""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from ..conftest import REPO_ROOT

CONFIG = 'configs/vanilla/fashion_mnist/resnet14-w16_1xb128_fashion-mnist.py'


def small_run_options(data_root: str, epochs: int = 1) -> list:
    return [
        '--cfg-options', f'train_cfg.max_epochs={epochs}',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.indices=256', 'val_dataloader.dataset.indices=128',
        'test_dataloader.dataset.indices=128', 'train_dataloader.batch_size=32',
        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
        'test_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.persistent_workers=False', 'test_dataloader.persistent_workers=False',
        'default_hooks.logger.interval=2',
    ]


def run_tool(args: list, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT, PYTHON=sys.executable)
    proc = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=600, **kwargs)
    return proc


def assert_ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(tmp_path_factory, fashion_mnist_root):
    work_dir = str(tmp_path_factory.mktemp('train'))
    log = assert_ok(run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir]
                             + small_run_options(fashion_mnist_root)))
    return work_dir, log


def test_train_writes_checkpoint_and_validates(trained):
    work_dir, log = trained
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
    assert 'accuracy/top1' in log
    state = torch.load(osp.join(work_dir, 'epoch_1.pth'), weights_only=False)
    assert state['meta']['epoch'] == 1
    assert any(k.startswith('backbone.layer3') for k in state['state_dict'])


def test_resume_continues_from_checkpoint(trained, fashion_mnist_root):
    work_dir, _ = trained
    log = assert_ok(run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
                              '--resume'] + small_run_options(fashion_mnist_root, epochs=2)))
    assert 'resumed epoch: 1' in log
    assert osp.isfile(osp.join(work_dir, 'epoch_2.pth'))


def test_test_tool_reports_accuracy(trained, fashion_mnist_root, tmp_path):
    work_dir, _ = trained
    out = tmp_path / 'metrics.json'
    log = assert_ok(run_tool([sys.executable, 'tools/test.py', CONFIG,
                              osp.join(work_dir, 'epoch_1.pth'), '--work-dir', str(tmp_path),
                              '--out', str(out)] + small_run_options(fashion_mnist_root)))
    assert 'accuracy/top1' in log
    assert 'accuracy/top1' in out.read_text()


def test_test_tool_rejects_missing_checkpoint(tmp_path):
    proc = run_tool([sys.executable, 'tools/test.py', CONFIG, str(tmp_path / 'x.pth')])
    assert proc.returncode != 0 and 'does not exist' in proc.stderr


def test_unknown_type_in_config_gets_suggestions(tmp_path, fashion_mnist_root):
    proc = run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(tmp_path)]
                    + small_run_options(fashion_mnist_root)
                    + ['model.backbone.type=mmpretrain.ResNet_CIFARR'])
    assert proc.returncode != 0
    assert 'Closest registered names: ' in proc.stderr
    assert 'ResNet_CIFAR' in proc.stderr


def test_print_config_merges_bases():
    log = assert_ok(run_tool([sys.executable, 'tools/misc/print_config.py', CONFIG,
                              '--cfg-options', 'train_cfg.max_epochs=3']))
    assert "type='mmrazor.OfflineFashionMNIST'" in log and 'max_epochs=3' in log


def test_torchrun_two_processes_gloo(tmp_path, fashion_mnist_root):
    """A 2-process CPU run through torchrun, as tools/dist_train.sh launches it."""
    log = assert_ok(run_tool(
        ['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', str(tmp_path)]
        + small_run_options(fashion_mnist_root),
        ))
    assert 'Distributed launcher: pytorch' in log or 'world_size: 2' in log or \
        'Distributed training: True' in log
    assert osp.isfile(tmp_path / 'epoch_1.pth')

"""L1-norm pruning under torch.distributed: 2 gloo processes through tools/dist_train.sh."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import save_checkpoint

from mmrazor.utils import build_model_from_config

from ..conftest import REPO_ROOT
from .test_train_test import assert_ok, run_tool, small_run_options

PRUNE = 'configs/pruning/fashion_mnist/l1-norm/l1-norm_resnet14-w32_1xb128_fashion-mnist.py'
TEACHER = 'configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py'


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory) -> str:
    torch.manual_seed(0)
    teacher = build_model_from_config(Config.fromfile(osp.join(REPO_ROOT, TEACHER)))
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    save_checkpoint({'state_dict': teacher.state_dict()}, path)
    return path


def test_two_processes_prune_alike_and_save_the_subnet(tmp_path, fashion_mnist_root,
                                                       teacher_ckpt):
    log = assert_ok(run_tool(
        ['bash', 'tools/dist_train.sh', PRUNE, '2', '--work-dir', str(tmp_path)]
        + small_run_options(fashion_mnist_root)
        + [f'model.architecture.init_cfg.checkpoint={teacher_ckpt}']))
    assert 'ItePruneAlgorithm: pruning step 1/1 at iteration 0' in log
    subnet = json.loads((tmp_path / 'fix_subnet.json').read_text())
    choices = {name: unit['choice']
               for name, unit in subnet['channel_unit_cfg']['units'].items()}
    assert choices['backbone.layer1.0.conv1_(0, 32)_32'] == 0.5
    assert choices['backbone.conv1_(0, 32)_32'] == 1.0
    static = torch.load(tmp_path / 'fix_subnet_weight.pth', weights_only=True)['state_dict']
    assert static['backbone.layer1.0.conv1.weight'].shape[0] == 16
    # the masks in the checkpoint are rank 0's; AlgorithmDDP kept the ranks' weights
    # equal, so rank 1 pruned the same channels (its L1 norms were the same)
    algorithm = build_model_from_config(Config.fromfile(osp.join(REPO_ROOT, PRUNE)))
    state = torch.load(tmp_path / 'epoch_1.pth', weights_only=False)['state_dict']  # ours
    algorithm.load_state_dict(state)  # the kept channels come back with the weights
    kept = {u.name: int(u.current_mask.sum()) for u in algorithm.mutator.mutable_units}
    assert kept['backbone.layer1.0.conv1_(0, 32)_32'] == 16


def test_plain_mmengine_ddp_would_skip_pruning_and_is_refused(tmp_path, fashion_mnist_root,
                                                              teacher_ckpt):
    proc = run_tool(
        ['bash', 'tools/dist_train.sh', PRUNE, '2', '--work-dir', str(tmp_path)]
        + small_run_options(fashion_mnist_root)
        + [f'model.architecture.init_cfg.checkpoint={teacher_ckpt}',
           'model_wrapper_cfg.type=MMDistributedDataParallel'])
    assert proc.returncode != 0
    assert "Set model_wrapper_cfg = dict(type='mmrazor.AlgorithmDDP')" in proc.stderr + \
        proc.stdout
    assert sys.executable

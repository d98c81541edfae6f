"""tools/visualizations/feature_visualization.py and feature_diff_visualization.py on a
real Fashion-MNIST image with checkpoints of the Fashion-MNIST configs, and on a
detector's FPN."""
import importlib
import os.path as osp
import sys

import cv2
import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import save_checkpoint

from mmrazor.datasets import OfflineFashionMNIST
from mmrazor.utils import build_model_from_config, resolve_cfg_path

from ..conftest import REPO_ROOT
from ..kd_helpers import KD_CONFIG, kd_model_cfg
from .test_train_test import assert_ok, run_tool

TOOLS = osp.join(REPO_ROOT, 'tools', 'visualizations')
VIS_CONFIGS = osp.join(TOOLS, 'vis_configs')
STUDENT = osp.join(REPO_ROOT, 'configs/vanilla/fashion_mnist/resnet14-w16_1xb128_fashion-mnist.py')
TEACHER = osp.join(REPO_ROOT, 'configs/vanilla/fashion_mnist/resnet14-w32_1xb128_fashion-mnist.py')
STAGES = osp.join(VIS_CONFIGS, 'resnet_stage_feature_visualization.py')
STAGES_DIFF = osp.join(VIS_CONFIGS, 'resnet_stage_feature_diff_visualization.py')


@pytest.fixture(scope='module')
def tools():
    # the tools import their sibling featmap_utils, as they do when run as scripts
    sys.path.insert(0, TOOLS)
    try:
        yield (importlib.import_module('feature_visualization'),
               importlib.import_module('feature_diff_visualization'))
    finally:
        sys.path.remove(TOOLS)


def save_model(cfg: Config, path: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = build_model_from_config(cfg)
    model.init_weights()
    save_checkpoint(model.state_dict(), path)
    return model


@pytest.fixture(scope='module')
def files(tmp_path_factory, fashion_mnist_root):
    """A Fashion-MNIST test image as PNG; student checkpoints of two seeds, a teacher's."""
    root = tmp_path_factory.mktemp('featvis')
    image = OfflineFashionMNIST(data_root=fashion_mnist_root, split='test',
                                indices=1).get_data_info(0)['img']
    cv2.imwrite(str(root / 'img.png'), image)
    for name, config, seed in (('s0', STUDENT, 0), ('s1', STUDENT, 1), ('t', TEACHER, 0)):
        save_model(Config.fromfile(config), str(root / f'{name}.pth'), seed)
    return root


def test_draws_each_stage_as_png(tools, files):
    out = files / 'stages.png'
    drawings = tools[0].main([str(files / 'img.png'), STUDENT, STAGES, str(files / 's0.pth'),
                              '--out-file', str(out), '--overlaid',
                              '--channel-reduction', 'pixel_wise_max'])
    assert sorted(drawings) == ['layer1_0', 'layer2_0', 'layer3_0']
    for name, drawn in drawings.items():
        written = mmcv.imread(str(files / f'stages_{name}.png'), channel_order='rgb')
        assert written.shape == (28, 28, 3)  # fitted to the image
        assert np.array_equal(written, drawn)
    # without --overlaid a map keeps its own size: layer2 is 14x14 (stride 2)
    alone = tools[0].main([str(files / 'img.png'), STUDENT, STAGES, str(files / 's0.pth'),
                           '--out-file', str(files / 'alone.png'),
                           '--channel-reduction', 'pixel_wise_max'])
    assert alone['layer2_0'].shape == (14, 14, 3)
    # another checkpoint, other maps
    other = tools[0].main([str(files / 'img.png'), STUDENT, STAGES, str(files / 's1.pth'),
                           '--out-file', str(files / 'other.png'), '--overlaid',
                           '--channel-reduction', 'pixel_wise_max'])
    assert not np.array_equal(other['layer2_0'], drawings['layer2_0'])


def test_default_grid_of_topk_channels(tools, files):
    drawings = tools[0].main([str(files / 'img.png'), STUDENT, STAGES, str(files / 's0.pth'),
                              '--out-file', str(files / 'grid.png'), '--topk', '6',
                              '--arrangement', '2', '3'])
    assert drawings['layer1_0'].shape == (2 * 28, 3 * 28, 3)
    assert drawings['layer3_0'].shape == (2 * 7, 3 * 7, 3)


def test_algorithm_checkpoint_draws_its_student(tools, files):
    """An algorithm config records in its architecture: the same maps as the vanilla
    student config with the student's weights."""
    cfg = Config.fromfile(KD_CONFIG)
    cfg.model = kd_model_cfg()
    algorithm = save_model(cfg, str(files / 'kd.pth'), seed=3)
    save_checkpoint(algorithm.architecture.state_dict(), str(files / 'kd_student.pth'))
    args = ['--overlaid', '--use-norm', '--channel-reduction', 'squeeze_mean']
    from_kd = tools[0].main([str(files / 'img.png'), KD_CONFIG, STAGES, str(files / 'kd.pth'),
                             '--out-file', str(files / 'kd.png')] + args)
    from_student = tools[0].main([str(files / 'img.png'), STUDENT, STAGES,
                                  str(files / 'kd_student.pth'),
                                  '--out-file', str(files / 'student.png')] + args)
    assert all(np.array_equal(from_kd[k], from_student[k]) for k in from_kd)


def test_diff_of_two_checkpoints(tools, files):
    args = ['--out-file', str(files / 'diff.png'), '--channel-reduction', 'squeeze_mean',
            '--resize-shape', '56', '56']
    diff = tools[1].main([str(files / 'img.png'), STUDENT, STUDENT, STAGES_DIFF,
                          str(files / 's0.pth'), str(files / 's1.pth')] + args)
    names = [f'model1_{n}_model2_{n}_0' for n in ('layer1', 'layer2', 'layer3')]
    assert sorted(diff) == names
    for name in names:
        written = mmcv.imread(str(files / f'diff_{name}.png'))
        assert written.shape == (56, 56, 3)
        assert len(np.unique(written.reshape(-1, 3), axis=0)) > 10
    # a model against itself: a zero difference is one flat colour
    same = tools[1].main([str(files / 'img.png'), STUDENT, STUDENT, STAGES_DIFF,
                          str(files / 's0.pth'), str(files / 's0.pth')] + args)
    assert all(len(np.unique(img.reshape(-1, 3), axis=0)) == 1 for img in same.values())


def test_diff_needs_maps_of_the_same_shape(tools, files):
    with pytest.raises(ValueError, match=r"model1 'layer1' has shape \(1, 16, 28, 28\) and "
                       r"model2 'layer1' \(1, 32, 28, 28\): only maps of the same shape"):
        tools[1].main([str(files / 'img.png'), STUDENT, TEACHER, STAGES_DIFF,
                       str(files / 's0.pth'), str(files / 't.pth'),
                       '--out-file', str(files / 'bad.png')])


def test_bad_input_is_refused(tools, files, capsys):
    with pytest.raises(SystemExit):
        tools[0].parse_args(['img', 'cfg', 'vis', 'ckpt', '--channel-reduction', 'max'])
    assert "invalid choice: 'max'" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="image 'nothing.png' does not exist"):
        tools[0].main(['nothing.png', STUDENT, STAGES, str(files / 's0.pth')])
    # the checkpoint must fit the model
    with pytest.raises(RuntimeError, match='size mismatch for backbone.conv1.weight'):
        tools[0].main([str(files / 'img.png'), STUDENT, STAGES, str(files / 't.pth')])


def test_detector_fpn_levels_from_the_command_line(files):
    """The shipped FPN config on a plain mmdet config, run as a user runs the script."""
    config = resolve_cfg_path('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py')[0]
    cfg = Config.fromfile(config)
    cfg.model.backbone.init_cfg = None
    save_model(cfg, str(files / 'det.pth'), seed=0)
    image = np.zeros((96, 128, 3), np.uint8)
    cv2.circle(image, (64, 48), 24, (0, 200, 255), -1)
    cv2.imwrite(str(files / 'det_img.png'), image)
    out = files / 'fpn.png'
    log = assert_ok(run_tool([
        sys.executable, 'tools/visualizations/feature_visualization.py',
        str(files / 'det_img.png'), config, osp.join(VIS_CONFIGS, 'fpn_feature_visualization.py'),
        str(files / 'det.pth'), '--out-file', str(out), '--overlaid', '--repo', 'mmdet',
        '--channel-reduction', 'squeeze_mean',
        '--cfg-options', 'model.backbone.init_cfg=None',
        'test_dataloader.dataset.pipeline.1.scale=(128,96)']))
    for level in ('p3', 'p4', 'p5', 'p6'):
        path = files / f'fpn_{level}_0.png'
        assert f'saved {path}' in log
        assert mmcv.imread(str(path)).shape == (96, 128, 3)

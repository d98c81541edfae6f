"""cfg_path: building upstream models from package and local config files."""
import os.path as osp

import pytest
import torch
from mmengine.runner import save_checkpoint

from mmrazor.registry import MODELS
from mmrazor.utils import build_model_from_cfg_path, load_upstream_config, resolve_cfg_path
from mmrazor.utils.upstream import model_scope

from ..conftest import REPO_ROOT

DET_CFG = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
STUDENT_CFG = osp.join(REPO_ROOT, 'configs/_base_/models/resnet14-w16_fashion-mnist.py')


@pytest.mark.parametrize('cfg_path, model_type', [
    ('mmpretrain::resnet/resnet18_8xb32_in1k.py', 'ImageClassifier'),
    ('mmcls::resnet/resnet18_8xb32_in1k.py', 'ImageClassifier'),
    ('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'RetinaNet'),
    ('mmseg::fcn/fcn_r18-d8_4xb2-80k_cityscapes-512x1024.py', 'EncoderDecoder'),
])
def test_package_cfg_paths_build_real_models(cfg_path, model_type):
    model = MODELS.build(dict(cfg_path=cfg_path, pretrained=False))
    assert type(model).__name__ == model_type
    assert sum(p.numel() for p in model.parameters()) > 1_000_000


def test_mmcls_and_mmpretrain_give_the_same_model():
    a = build_model_from_cfg_path('mmcls::resnet/resnet18_8xb32_in1k.py')
    b = build_model_from_cfg_path('mmpretrain::resnet/resnet18_8xb32_in1k.py')
    assert [k for k, _ in a.named_parameters()] == [k for k, _ in b.named_parameters()]
    assert resolve_cfg_path('mmcls::resnet/resnet18_8xb32_in1k.py')[0] == \
        resolve_cfg_path('mmpretrain::resnet/resnet18_8xb32_in1k.py')[0]


def test_local_cfg_path_builds_and_runs():
    model = MODELS.build(dict(cfg_path=STUDENT_CFG, pretrained=False))
    logits = model(torch.randn(2, 1, 28, 28), mode='tensor')
    assert logits.shape == (2, 10)


def test_pretrained_local_checkpoint_is_loaded(tmp_path):
    source = build_model_from_cfg_path(STUDENT_CFG)
    ckpt = tmp_path / 'student.pth'
    save_checkpoint({'state_dict': source.state_dict()}, str(ckpt))
    loaded = build_model_from_cfg_path(STUDENT_CFG, pretrained=str(ckpt))
    for (name, a), b in zip(source.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name


def test_pretrained_true_is_refused():
    with pytest.raises(ValueError, match='publishes no weights'):
        build_model_from_cfg_path(STUDENT_CFG, pretrained=True)


def test_uninstalled_package_is_named():
    with pytest.raises(ModuleNotFoundError, match="needs the package 'mmpose'.*pip install"):
        MODELS.build(dict(cfg_path='mmpose::body_2d_keypoint/x.py'))


def test_missing_package_config_is_named_with_neighbours():
    with pytest.raises(FileNotFoundError) as info:
        resolve_cfg_path('mmpretrain::resnet/resnet18_8xb32_in1kk.py')
    assert "has no config 'resnet/resnet18_8xb32_in1kk.py'" in str(info.value)
    assert 'resnet18_8xb32_in1k.py' in str(info.value)


def test_missing_local_config_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such config file'):
        MODELS.build(dict(cfg_path=str(tmp_path / 'nope.py')))


def test_model_scope():
    assert model_scope(load_upstream_config(DET_CFG), DET_CFG) == 'mmdet'
    # our model configs have no default scope: the model's own type gives it
    assert model_scope(load_upstream_config(STUDENT_CFG), STUDENT_CFG) == 'mmpretrain'

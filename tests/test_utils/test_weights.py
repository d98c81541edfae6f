"""mmrazor.utils.weights: checkpoints named by URL load from the torch.hub cache, offline,
and every checkpoint (teacher_ckpt, load_from, init_cfg, pretrained) loads weights only."""
import os.path as osp
import re
import socket
import sys
import urllib.request

import mmengine.runner.checkpoint as mmengine_checkpoint
import pytest
import torch
import torchvision
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from mmrazor.registry import MODELS
from mmrazor.utils import build_model_from_cfg_path
from mmrazor.utils.weights import UnsafeCheckpointError, cached_file, checkpoint_url

from ..kd_helpers import STUDENT_MODEL_CFG, kd_model_cfg
from ..test_tools.test_train_test import CONFIG, assert_ok, run_tool, small_run_options

RESNET18_CFG = 'mmpretrain::resnet/resnet18_8xb32_in1k.py'
# the published weights of RESNET18_CFG, as its metafile names them
RESNET18_URL = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
                'resnet18_8xb32_in1k_20210831-fbbb1da6.pth')
RETINANET_R50_CFG = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    """An empty torch.hub cache in tmp_path; any attempt to download fails the test."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)  # restored after the test
    torch.hub.set_dir(str(tmp_path / 'torch' / 'hub'))
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f'tried the network: {args}')

    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_network)
    monkeypatch.setattr(torch.hub, 'load_state_dict_from_url', no_network)
    monkeypatch.setattr(mmengine_checkpoint, 'load_url', no_network)
    monkeypatch.setattr(urllib.request, 'urlopen', no_network)
    monkeypatch.setattr(socket.socket, 'connect', no_network)
    checkpoints = tmp_path / 'torch' / 'hub' / 'checkpoints'
    checkpoints.mkdir(parents=True)
    yield checkpoints
    assert not attempts


def _publish(hub_dir, url: str, state_dict: dict) -> str:
    """Put ``state_dict`` where a download of ``url`` would have been cached."""
    path = hub_dir / osp.basename(url)
    torch.save({'state_dict': state_dict, 'meta': {'source': url}}, path)
    return str(path)


def _assert_same(state_dict: dict, expected: dict) -> None:
    assert state_dict.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(state_dict[key], value), key


def test_cache_path_is_torch_hub_checkpoints(hub_dir):
    assert cached_file(RESNET18_URL) == str(hub_dir / osp.basename(RESNET18_URL))
    assert osp.dirname(cached_file(RESNET18_URL)) == osp.join(torch.hub.get_dir(),
                                                              'checkpoints')


def test_torchvision_name_maps_to_torchvision_file(hub_dir):
    url = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    assert checkpoint_url('torchvision://resnet18') == url
    weights = torchvision.models.resnet18().state_dict()
    torch.save(weights, hub_dir / osp.basename(url))
    _assert_same(CheckpointLoader.load_checkpoint('torchvision://resnet18'), weights)


def test_unknown_zoo_name_suggests(hub_dir):
    with pytest.raises(KeyError, match='torchvision://resnet5O is not in .*closest: '
                                       'torchvision://resnet50'):
        CheckpointLoader.load_checkpoint('torchvision://resnet5O')


def test_teacher_loads_from_published_url(hub_dir):
    published = build_model_from_cfg_path(RESNET18_CFG).state_dict()
    _publish(hub_dir, RESNET18_URL, published)
    algo = MODELS.build(kd_model_cfg(teacher=dict(cfg_path=RESNET18_CFG),
                                     teacher_ckpt=RESNET18_URL))
    _assert_same(algo.teacher.state_dict(), published)
    fresh = build_model_from_cfg_path(RESNET18_CFG).state_dict()
    assert not torch.equal(fresh['backbone.conv1.weight'], published['backbone.conv1.weight'])


def test_pretrained_true_loads_the_configs_published_weights(hub_dir):
    published = build_model_from_cfg_path(RESNET18_CFG).state_dict()
    _publish(hub_dir, RESNET18_URL, published)
    for pretrained in (True, RESNET18_URL):
        model = build_model_from_cfg_path(RESNET18_CFG, pretrained=pretrained)
        _assert_same(model.state_dict(), published)
        assert model._is_init  # init_weights() will keep them


def test_pretrained_true_missing_file_says_where(hub_dir):
    with pytest.raises(FileNotFoundError, match=re.escape(
            str(hub_dir / osp.basename(RESNET18_URL))) + ".*pretrained='/local/path.pth'"):
        build_model_from_cfg_path(RESNET18_CFG, pretrained=True)
    with pytest.raises(ValueError, match='publishes no weights'):
        build_model_from_cfg_path(STUDENT_MODEL_CFG, pretrained=True)


def test_mmdet_init_cfg_loads_torchvision_resnet50_from_cache(hub_dir):
    model = build_model_from_cfg_path(RETINANET_R50_CFG)
    assert model.backbone.init_cfg['checkpoint'] == 'torchvision://resnet50'
    weights = torchvision.models.resnet50().state_dict()
    torch.save(weights, hub_dir / osp.basename(checkpoint_url('torchvision://resnet50')))
    model.init_weights()
    for key in ('conv1.weight', 'layer4.2.conv3.weight', 'layer1.0.bn1.running_var'):
        assert torch.equal(model.backbone.state_dict()[key], weights[key]), key


def test_missing_url_names_url_path_and_override(hub_dir):
    path = hub_dir / osp.basename(RESNET18_URL)
    with pytest.raises(FileNotFoundError, match=re.escape(RESNET18_URL) + '.*'
                       + re.escape(str(path)) + '.*--cfg-options model.teacher_ckpt='):
        MODELS.build(kd_model_cfg(teacher=dict(cfg_path=RESNET18_CFG),
                                  teacher_ckpt=RESNET18_URL))
    backbone = MODELS.build(dict(type='mmpretrain.ResNet', depth=18, init_cfg=dict(
        type='Pretrained', checkpoint='torchvision://resnet18')))
    with pytest.raises(FileNotFoundError, match=r'resnet18-\w+\.pth\) is not in the local '
                       r'cache.*init_cfg\.checkpoint=/local/path.*init_cfg=None'):
        backbone.init_weights()


class Payload:
    """Creates ``marker`` when unpickled: what a malicious checkpoint would run."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, 'w')


def _malicious(tmp_path, name: str = 'evil.pth') -> tuple:
    marker = tmp_path / f'{name}.marker'
    path = tmp_path / name
    torch.save({'state_dict': {'w': torch.ones(1)}, 'meta': Payload(str(marker))}, path)
    return str(path), marker


def test_malicious_payload_is_real(tmp_path):
    path, marker = _malicious(tmp_path)
    torch.load(path, weights_only=False).get('meta').close()
    assert marker.exists()


def test_malicious_teacher_ckpt_and_init_cfg_are_refused(tmp_path):
    path, marker = _malicious(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match='Refusing to load .*evil.pth.*'
                       r'not a plain weights file \(Unsupported global: GLOBAL io.open'):
        MODELS.build(kd_model_cfg(teacher_ckpt=path))
    backbone = MODELS.build(dict(type='mmpretrain.ResNet', depth=18, init_cfg=dict(
        type='Pretrained', checkpoint=path)))
    with pytest.raises(UnsafeCheckpointError, match='not a plain weights file'):
        backbone.init_weights()
    assert not marker.exists()


class GetattrPayload:
    """A checkpoint that uses ``getattr`` beyond HistoryBuffer's statistics methods."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__subclasses__')


def test_getattr_is_allowed_only_for_history_buffer_methods(tmp_path):
    torch.save({'state_dict': {}, 'meta': GetattrPayload()}, tmp_path / 'g.pth')
    with pytest.raises(UnsafeCheckpointError, match=r"getattr\(.*HistoryBuffer.*"
                       r"'__subclasses__'\)"):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'g.pth'))


@pytest.fixture(scope='module')
def trained(tmp_path_factory, fashion_mnist_root):
    work_dir = str(tmp_path_factory.mktemp('train'))
    assert_ok(run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir]
                       + small_run_options(fashion_mnist_root)))
    return work_dir


def test_runner_checkpoint_resumes_weights_only(trained, fashion_mnist_root):
    log = assert_ok(run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
                              trained, '--resume']
                             + small_run_options(fashion_mnist_root, epochs=2)))
    assert 'resumed epoch: 1' in log
    assert 'Loads checkpoint by weights_only backend' in log
    assert osp.isfile(osp.join(trained, 'epoch_2.pth'))


def test_malicious_load_from_is_refused(tmp_path, fashion_mnist_root):
    path, marker = _malicious(tmp_path)
    proc = run_tool([sys.executable, 'tools/train.py', CONFIG, '--work-dir',
                     str(tmp_path / 'work')] + small_run_options(fashion_mnist_root)
                    + [f'load_from={path}'])
    assert proc.returncode != 0
    assert 'UnsafeCheckpointError' in proc.stderr and 'not a plain weights file' in proc.stderr
    assert not marker.exists()

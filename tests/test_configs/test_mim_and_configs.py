"""``mmrazor::`` config paths through MMEngine's own ``Config`` machinery.

setup.py ships ``configs``, ``tools`` and ``model-index.yml`` in ``mmrazor/.mim``:
symlinks in an editable install, copies in a wheel.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from mmengine.config import Config

from tests.conftest import REPO_ROOT

BASE = 'mmrazor::_base_/models/resnet14-w16_fashion-mnist.py'
SOURCES = ('setup.py', 'MANIFEST.in', 'README.md', 'model-index.yml', 'mmrazor',
           'configs', 'tools', 'requirements')


def _write_child_config(folder) -> str:
    path = osp.join(str(folder), 'child.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = ['{BASE}']\nmodel = dict(head=dict(num_classes=3))\n")
    return path


def _copy_sources(dest: str) -> str:
    """A copy of the files a build reads (``mmrazor/.mim`` left out)."""
    ignore = shutil.ignore_patterns('__pycache__', '.mim', '*.egg-info')
    os.makedirs(dest)
    for name in SOURCES:
        src = osp.join(REPO_ROOT, name)
        if osp.isdir(src):
            shutil.copytree(src, osp.join(dest, name), ignore=ignore)
        else:
            shutil.copy(src, dest)
    return dest


def test_base_config_from_editable_install(tmp_path):
    # The checkout is installed with `pip install -e .` (tools/install.sh).
    assert osp.islink(osp.join(REPO_ROOT, 'mmrazor', '.mim', 'configs')), (
        'mmrazor/.mim is missing: re-run `pip install -e .` (tools/install.sh)')
    cfg = Config.fromfile(_write_child_config(tmp_path))
    assert cfg.model.backbone.base_channels == 16  # from the base
    assert cfg.model.head.num_classes == 3  # the child's override


def test_mmengine_misses_editable_installs_without_the_fix():
    from mmengine.config import config as config_module
    from mmengine.utils import get_installed_path  # MMEngine's, unpatched
    # Upstream bug (mmrazor/utils/compat/editable_install.py): site-packages/mmrazor
    # does not exist in a PEP 660 editable install. Delete the fix once this fails.
    assert not osp.isdir(get_installed_path('mmrazor'))
    assert osp.samefile(config_module.get_installed_path('mmrazor'),
                        osp.join(REPO_ROOT, 'mmrazor'))
    # packages installed normally are answered as before
    assert config_module.get_installed_path('mmdet') == get_installed_path('mmdet')


def test_cfg_path_resolution_uses_mim():
    from mmrazor.utils.upstream import resolve_cfg_path
    path, scope = resolve_cfg_path(BASE)
    assert scope == 'mmrazor'
    assert osp.samefile(path, osp.join(REPO_ROOT, 'configs', '_base_', 'models',
                                       'resnet14-w16_fashion-mnist.py'))


def test_editable_build_links_mim(tmp_path):
    src = _copy_sources(str(tmp_path / 'src'))
    subprocess.run([sys.executable, '-c',
                    'from setuptools import build_meta as b; '
                    f'b.build_editable({str(tmp_path / "out")!r})'],
                   cwd=src, check=True, capture_output=True)
    mim = osp.join(src, 'mmrazor', '.mim')
    for name in ('configs', 'tools', 'model-index.yml'):
        assert osp.islink(osp.join(mim, name))
        assert osp.samefile(osp.join(mim, name), osp.join(src, name))


def test_wheel_ships_mim_copies(tmp_path):
    src = _copy_sources(str(tmp_path / 'src'))
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps',
                    '--no-build-isolation', '--disable-pip-version-check', '.',
                    '-w', str(tmp_path / 'dist')], cwd=src, check=True,
                   capture_output=True)
    assert not osp.exists(osp.join(src, 'mmrazor', '.mim'))  # source tree untouched
    wheel, = os.listdir(tmp_path / 'dist')
    with zipfile.ZipFile(tmp_path / 'dist' / wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / 'site')
    assert 'mmrazor/.mim/model-index.yml' in names
    assert 'mmrazor/.mim/configs/_base_/models/resnet14-w16_fashion-mnist.py' in names
    assert 'mmrazor/.mim/tools/train.py' in names
    # The unpacked wheel comes first on sys.path: a regular (non-editable) install.
    child = _write_child_config(tmp_path)
    out = subprocess.run(
        [sys.executable, '-c',
         'import mmrazor; from mmengine.config import Config; '
         f'c = Config.fromfile({child!r}); print(mmrazor.__file__); '
         'print(c.model.backbone.base_channels)'],
        cwd=str(tmp_path), check=True, capture_output=True, text=True,
        env={**os.environ, 'PYTHONPATH': str(tmp_path / 'site')})
    file, channels = out.stdout.split()
    assert file.startswith(str(tmp_path / 'site')) and channels == '16'


def test_model_index_is_read_by_mmengine():
    from mmengine.config.utils import _get_cfg_metainfo
    # Import: [] - no named configs, so MMEngine falls back to .mim/configs.
    with pytest.raises(ValueError, match='Expected configs'):
        _get_cfg_metainfo(osp.join(REPO_ROOT, 'mmrazor'), 'kd/anything')


# ----------------------------------------------------------------------------------
# Configs added with WideResNet, CRDDataset and mmdet3d
# ----------------------------------------------------------------------------------
WRN = {'wrn16-w2': (16, 2, 128), 'wrn22-w4': (22, 4, 256), 'wrn28-w4': (28, 4, 256),
       'wrn40-w2': (40, 2, 128)}
CRD = osp.join(REPO_ROOT, 'configs', 'distill', 'mmcls', 'crd',
               'crd_neck_r50_r18_8xb16_cifar10.py')
PKD3D = osp.join(REPO_ROOT, 'configs', 'distill', 'mmdet3d', 'pkd',
                 'pkd_fpn_fcos3d_r101_fcos3d_r50_8xb2-1x_nus-mono3d.py')


@pytest.mark.parametrize('name', sorted(WRN))
def test_vanilla_wide_resnet_configs_build(name):
    import torch

    from mmrazor.utils import build_model_from_cfg_path
    depth, widen, channels = WRN[name]
    model = build_model_from_cfg_path(
        f'mmrazor::vanilla/mmcls/wide-resnet/{name}_b16x8_cifar10.py')
    assert (model.backbone.depth, model.backbone.widen_factor) == (depth, widen)
    assert model.head.fc.in_features == channels
    model.eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, 32, 32)).shape == (2, 10)


def test_crd_config_trains_on_the_packed_negatives(fashion_mnist_root):
    import numpy as np
    import torch
    from mmengine.optim import OptimWrapper
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    from mmrazor.registry import MODELS
    cfg = Config.fromfile(CRD)
    neg_num, num = 32, 256
    # The config's own CRDDataset + PackCRDClsInputs pipeline over real images
    # (Fashion-MNIST stands in for CIFAR-10, which is not available offline).
    loader_cfg = cfg.train_dataloader
    loader_cfg.dataset.dataset = dict(
        type='mmrazor.OfflineFashionMNIST', data_root=fashion_mnist_root,
        split='train', indices=num, pipeline=loader_cfg.dataset.dataset.pipeline)
    loader_cfg.update(batch_size=4, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.neg_num = neg_num
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        loader = Runner.build_dataloader(loader_cfg, seed=0)
        batch = next(iter(loader))
    labels = np.asarray(loader.dataset.dataset.get_gt_labels())
    for sample in batch['data_samples']:
        contrast = sample.contrast_sample_idxs.numpy()
        assert contrast.shape == (neg_num + 1, ) and contrast[0] == int(sample.sample_idx)
        assert (labels[contrast[1:]] != labels[contrast[0]]).all()
    batch['inputs'] = [img.expand(3, -1, -1) for img in batch['inputs']]  # grey -> RGB

    cfg.model.teacher_ckpt = None
    cfg.model.distiller.distill_losses.loss_crd.update(neg_num=neg_num, sample_n=num)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    memory = model.distiller.distill_losses.loss_crd.contrast.memory_v1
    before = memory.clone()
    log_vars = model.train_step(batch, OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3)))
    assert torch.isfinite(log_vars['distill.loss_crd'])
    changed = (memory != before).any(dim=1).nonzero().flatten().tolist()
    assert sorted(changed) == sorted(int(s.sample_idx) for s in batch['data_samples'])


def test_mmdet3d_pkd_config_needs_mmdet3d():
    import importlib.util
    if importlib.util.find_spec('mmdet3d') is None:
        with pytest.raises(ModuleNotFoundError, match='mmdet3d is not installed'):
            Config.fromfile(PKD3D)
        return
    from mmengine.registry import DefaultScope

    from mmrazor.registry import MODELS
    cfg = Config.fromfile(PKD3D)
    cfg.model.teacher_ckpt = None
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(cfg.model)
    assert model.architecture.backbone.depth == 50
    assert len(cfg.model.distiller.distill_losses) == 4

"""Run MMRazor 1.x configs written for mmcls 1.x on mmpretrain, its successor.

mmcls 1.x cannot be installed beside mmcv 2.1 (see docs/en/get_started.md); mmpretrain
is the same project renamed. Four aliases make old configs run unchanged:

* config paths: ``mmcls::resnet/resnet18_8xb32_in1k.py`` and ``_base_ = ['mmcls::...']``
  load mmpretrain's file of the same path;
* renamed config files: mmpretrain, mmdet 3.x and mmseg 1.x renamed config files that
  MMRazor 1.x's configs name (``mmdet::faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py`` is
  ``faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py``); :data:`CONFIG_RENAMED` maps them,
  for ``_base_`` and for ``cfg_path``;
* registry scope: ``_scope_='mmcls'``, ``default_scope='mmcls'`` and
  ``type='mmcls.ResNet'`` find mmpretrain's registries; renamed classes are mapped by
  :data:`MMCLS_RENAMED`;
* Python modules: ``mmcls.models.heads.ClsHead`` (recorder sources, tracer skip lists)
  imports ``mmpretrain.models.heads.ClsHead``.
"""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType
from typing import Dict, Optional

from mmengine.registry import Registry

ALIAS = 'mmcls'
TARGET = 'mmpretrain'
# mmcls 1.x names that mmpretrain registers under another name.
MMCLS_RENAMED: Dict[str, str] = {
    'PackClsInputs': 'PackInputs',
    'ClsVisualizer': 'UniversalVisualizer',
}
# Upstream config files named in MMRazor 1.x's configs (and docs/tests) under the name
# they had then -> the name mmpretrain 1.2 / mmdet 3.3 / mmseg 1.2 ship them under.
# tests/test_utils/test_mmcls_renames.py checks that every target exists and no old
# name does.
CONFIG_RENAMED: Dict[str, str] = {
    # mmcls 1.x -> mmpretrain: the "_pt-" (pretrain) tag was dropped
    'mmcls::deit/deit-base_pt-16xb64_in1k.py': 'mmcls::deit/deit-base_16xb64_in1k.py',
    'mmcls::deit/deit-base-distilled_pt-16xb64_in1k.py':
    'mmcls::deit/deit-base-distilled_16xb64_in1k.py',
    'mmcls::deit/deit-small_pt-4xb256_in1k.py': 'mmcls::deit/deit-small_4xb256_in1k.py',
    'mmcls::deit/deit-tiny_pt-4xb256_in1k.py': 'mmcls::deit/deit-tiny_4xb256_in1k.py',
    'mmcls::vision_transformer/vit-base-p16_pt-64xb64_in1k-224.py':
    'mmcls::vision_transformer/vit-base-p16_64xb64_in1k.py',
    # mmdet 2.x names -> mmdet 3.x: model names hyphenated, "mstrain" -> "ms",
    # "8x8" -> "8xb8"
    'mmdet::faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py':
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mmdet::faster_rcnn/faster_rcnn_r50_fpn_2x_coco.py':
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_2x_coco.py',
    'mmdet::faster_rcnn/faster_rcnn_r101_fpn_1x_coco.py':
    'mmdet::faster_rcnn/faster-rcnn_r101_fpn_1x_coco.py',
    'mmdet::faster_rcnn/faster_rcnn_r101_fpn_2x_coco.py':
    'mmdet::faster_rcnn/faster-rcnn_r101_fpn_2x_coco.py',
    'mmdet::_base_/models/faster_rcnn_r50_fpn.py':
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/models/mask_rcnn_r50_fpn.py': 'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::mask_rcnn/mask_rcnn_r50_fpn_1x_coco.py':
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    'mmdet::retinanet/retinanet_x101_64x4d_fpn_1x_coco.py':
    'mmdet::retinanet/retinanet_x101-64x4d_fpn_1x_coco.py',
    'mmdet::retinanet/retinanet_x101_64x4d_fpn_2x_coco.py':
    'mmdet::retinanet/retinanet_x101-64x4d_fpn_2x_coco.py',
    'mmdet::gfl/gfl_r101_fpn_mstrain_2x_coco.py': 'mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py',
    'mmdet::gfl/gfl_r50_fpn_mstrain_2x_coco.py': 'mmdet::gfl/gfl_r50_fpn_ms-2x_coco.py',
    'mmdet::fcos/fcos_x101_64x4d_fpn_gn-head_mstrain_640-800_2x_coco.py':
    'mmdet::fcos/fcos_x101-64x4d_fpn_gn-head_ms-640-800-2x_coco.py',
    'mmdet::swin/mask_rcnn_swin-s-p4-w7_fpn_fp16_ms-crop-3x_coco.py':
    'mmdet::swin/mask-rcnn_swin-s-p4-w7_fpn_amp-ms-crop-3x_coco.py',
    'mmdet::swin/mask_rcnn_swin-t-p4-w7_fpn_1x_coco.py':
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    'mmdet::reppoints/reppoints_moment_r50_fpn_gn-neck+head_2x_coco.py':
    'mmdet::reppoints/reppoints-moment_r50_fpn-gn_head-gn_2x_coco.py',
    'mmdet::reppoints/reppoints_moment_x101_fpn_dconv_c3-c5_gn-neck+head_2x_coco.py':
    'mmdet::reppoints/reppoints-moment_x101-dconv-c3-c5_fpn-gn_head-gn_2x_coco.py',
    'mmdet::yolox/yolox_s_8x8_300e_coco.py': 'mmdet::yolox/yolox_s_8xb8-300e_coco.py',
    # mmseg 0.x names -> mmseg 1.x: "<crop>_<iters>_<data>" -> "<gpus>xb<bs>-<iters>_
    # <data>-<crop>"
    'mmseg::pspnet/pspnet_r18-d8_512x1024_80k_cityscapes.py':
    'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    'mmseg::pspnet/pspnet_r101-d8_512x1024_80k_cityscapes.py':
    'mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    'mmseg::pspnet/pspnet_r50-d8_512x1024_80k_cityscapes.py':
    'mmseg::pspnet/pspnet_r50-d8_4xb2-80k_cityscapes-512x1024.py',
    'mmseg::point_rend/pointrend_r50_512x1024_80k_cityscapes.py':
    'mmseg::point_rend/pointrend_r50_4xb2-80k_cityscapes-512x1024.py',
    'mmseg::deeplabv3/deeplabv3_r50-d8_512x1024_80k_cityscapes.py':
    'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-80k_cityscapes-512x1024.py',
}
_installed = False
_renames_installed = False


def renamed_config_path(cfg_path: str) -> str:
    """The name upstream ships ``'pkg::path.py'`` under today (itself if unchanged)."""
    return CONFIG_RENAMED.get(cfg_path, cfg_path)


def install_config_renames() -> None:
    """Make MMEngine's ``_base_ = ['pkg::...']`` read :data:`CONFIG_RENAMED` (idempotent)."""
    global _renames_installed
    if _renames_installed:
        return
    from mmengine.config import config as config_module
    split_package_path = config_module._get_package_and_cfg_path

    def get_package_and_cfg_path(cfg_path: str):
        return split_package_path(renamed_config_path(cfg_path))

    config_module._get_package_and_cfg_path = get_package_and_cfg_path
    _renames_installed = True


class _ModuleAliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``mmcls[.x]`` as the already-importable ``mmpretrain[.x]`` module."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname == ALIAS or fullname.startswith(ALIAS + '.'):
            real = TARGET + fullname[len(ALIAS):]
            if importlib.util.find_spec(real) is None:
                return None
            is_pkg = importlib.util.find_spec(real).submodule_search_locations is not None
            return importlib.machinery.ModuleSpec(fullname, self, is_package=is_pkg)
        return None

    def create_module(self, spec) -> ModuleType:
        module = importlib.import_module(TARGET + spec.name[len(ALIAS):])
        self._real_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # importlib overwrote __spec__ with the alias spec: give the module its own back.
        module.__spec__ = self._real_spec


class ScopeAliasRegistry(Registry):
    """A registry of scope ``mmcls`` that resolves names in mmpretrain's registry."""

    def __init__(self, target: Registry, renamed: Dict[str, str]) -> None:
        super().__init__(target.name, build_func=target.build_func,
                         parent=target.parent, scope=ALIAS)
        self._target = target
        self._renamed = renamed
        self._imported = True  # the target imports its own locations

    def get(self, key: str) -> Optional[type]:
        scope, real_key = self.split_scope_key(key)
        if scope is None or scope == ALIAS:
            return self._target.get(self._renamed.get(real_key, real_key))
        return self._target.get(key)

    @property
    def module_dict(self) -> dict:
        return self._target.module_dict


def install_mmcls_alias() -> None:
    """Install the config renames, and the mmcls aliases if mmpretrain is installed
    (cheap to call again)."""
    global _installed
    install_config_renames()
    if _installed or importlib.util.find_spec(TARGET) is None:
        return
    from mmengine.config import utils as config_utils
    config_utils.MODULE2PACKAGE[ALIAS] = TARGET
    sys.meta_path.insert(0, _ModuleAliasFinder())
    registries = importlib.import_module(f'{TARGET}.registry')
    for registry in vars(registries).values():
        if (isinstance(registry, Registry) and registry.scope == TARGET
                and registry.parent is not None
                and ALIAS not in registry.parent.children):
            ScopeAliasRegistry(registry, MMCLS_RENAMED)
    _installed = True

"""Upstream config files renamed after MMRazor 1.x: old names still resolve."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmrazor.utils import build_model_from_cfg_path
from mmrazor.utils.compat.mmcls import CONFIG_RENAMED, renamed_config_path
from mmrazor.utils.upstream import resolve_cfg_path


def _installed_path(cfg_path: str) -> str:
    """Where the installed package ships ``cfg_path`` (no renaming)."""
    import importlib.util
    scope, _, relative = cfg_path.partition('::')
    package = {'mmcls': 'mmpretrain'}.get(scope, scope)
    root = osp.dirname(importlib.util.find_spec(package).origin)
    return osp.join(root, '.mim', 'configs', relative)


@pytest.mark.parametrize('old', sorted(CONFIG_RENAMED))
def test_every_old_name_resolves_to_an_existing_file(old):
    new = CONFIG_RENAMED[old]
    assert old.partition('::')[0] == new.partition('::')[0]  # same package
    assert osp.isfile(_installed_path(new)), f'{new} is not shipped'
    # an entry whose old name still exists would be dead weight
    assert not osp.isfile(_installed_path(old)), f'{old} is not renamed'
    path, scope = resolve_cfg_path(old)
    assert osp.samefile(path, _installed_path(new)) and scope == old.partition('::')[0]


def test_unlisted_names_are_unchanged():
    name = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
    assert renamed_config_path(name) == name


@pytest.mark.parametrize('old,field,value', [
    ('mmdet::faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py', 'type', 'FasterRCNN'),
    ('mmseg::pspnet/pspnet_r18-d8_512x1024_80k_cityscapes.py', 'type',
     'EncoderDecoder'),
    ('mmcls::deit/deit-base_pt-16xb64_in1k.py', 'type', 'ImageClassifier'),
])
def test_old_names_in_base_load_with_config_fromfile(tmp_path, old, field, value):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{old}']\n")
    cfg = Config.fromfile(str(child))
    assert cfg.model[field] == value


def test_old_name_in_cfg_path_builds_a_working_model():
    model = build_model_from_cfg_path('mmdet::faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py',
                                      backbone=dict(depth=18, init_cfg=None),
                                      neck=dict(in_channels=[64, 128, 256, 512]))
    model.eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.rand(1, 3, 64, 64))
    assert type(model).__name__ == 'FasterRCNN' and len(feats) == 5


def test_unknown_name_still_says_what_is_close():
    with pytest.raises(FileNotFoundError, match='Closest in that folder'):
        resolve_cfg_path('mmdet::faster_rcnn/faster_rcnn_r50_fpn_3x_coco.py')

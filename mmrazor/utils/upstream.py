"""Load upstream (mmpretrain / mmdet / mmseg / local) configs and build their models.

``cfg_path`` is ``'package::relative/path.py'`` for a config shipped by an installed
package (``mmcls::`` reads mmpretrain's config of the same path) or a path to a local
config file, which MMRazor 1.x could not load (its issue #460).
"""
import difflib
import importlib.util
import os
import os.path as osp
from typing import Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope

from .compat.mmcls import ALIAS as MMCLS_ALIAS
from .compat.mmcls import TARGET as MMCLS_TARGET

# The pip distribution that provides each importable package named in a cfg_path.
PACKAGE_DISTRIBUTIONS = {
    'mmpretrain': 'mmpretrain==1.2.0',
    'mmdet': 'mmdet==3.3.0',
    'mmseg': 'mmsegmentation==1.2.2',
    'mmrazor': 'mmrazor',
}


def resolve_cfg_path(cfg_path: str) -> Tuple[str, Optional[str]]:
    """Return ``(absolute config file, package scope or None)`` for ``cfg_path``."""
    if '::' not in cfg_path:
        path = osp.abspath(osp.expanduser(cfg_path))
        if not osp.isfile(path):
            raise FileNotFoundError(f'cfg_path {cfg_path!r}: no such config file '
                                    f'({path}). Use a local file path or '
                                    "'package::relative/path.py'.")
        return path, None
    scope, _, relative = cfg_path.partition('::')
    package = MMCLS_TARGET if scope == MMCLS_ALIAS else scope
    spec = importlib.util.find_spec(package) if package.isidentifier() else None
    if spec is None or spec.origin is None:
        dist = PACKAGE_DISTRIBUTIONS.get(package, package)
        raise ModuleNotFoundError(
            f'cfg_path {cfg_path!r} needs the package {package!r}, which is not '
            f'installed (pip install {dist}).')
    config_root = osp.join(osp.dirname(spec.origin), '.mim', 'configs')
    if not osp.isdir(config_root):  # editable installs keep configs at the repo root
        config_root = osp.join(osp.dirname(osp.dirname(spec.origin)), 'configs')
    path = osp.join(config_root, relative)
    if not osp.isfile(path):
        raise FileNotFoundError(f'cfg_path {cfg_path!r}: package {package!r} has no '
                                f'config {relative!r} (looked for {path}).'
                                + _nearby_configs(config_root, relative))
    return path, scope


def _nearby_configs(config_root: str, relative: str) -> str:
    folder = osp.join(config_root, osp.dirname(relative))
    if not osp.isdir(folder):
        return f' Folder {osp.dirname(relative)!r} does not exist there.'
    close = difflib.get_close_matches(osp.basename(relative), os.listdir(folder), n=3)
    return f' Closest in that folder: {", ".join(close)}.' if close else ''


def load_upstream_config(cfg_path: str) -> Config:
    """Load the full config named by ``cfg_path`` (see :func:`resolve_cfg_path`)."""
    return Config.fromfile(resolve_cfg_path(cfg_path)[0])


def model_scope(cfg: Config, cfg_path: str) -> Optional[str]:
    """The registry scope to build ``cfg.model`` in.

    The config's ``default_scope``; else the scope of a scoped model type
    (``'mmpretrain.ImageClassifier'`` -> ``'mmpretrain'``), so that the defaults the
    model fills in itself (e.g. its data preprocessor) resolve there too; else the
    package named by ``cfg_path``.
    """
    if cfg.get('default_scope'):
        return cfg.default_scope
    model_type = cfg.model.get('type') if isinstance(cfg.get('model'), dict) else None
    if isinstance(model_type, str) and '.' in model_type:
        return model_type.split('.')[0]
    return resolve_cfg_path(cfg_path)[1]


def build_model_from_cfg_path(cfg_path: str,
                              pretrained: Union[bool, str] = False,
                              **model_overrides) -> nn.Module:
    """Build the ``model`` of the config at ``cfg_path`` in that config's scope.

    Args:
        cfg_path (str): ``'package::path.py'`` or a local config file.
        pretrained (bool | str): ``False``, or the path of a local checkpoint to load.
            ``True`` (download the published weights) is refused: nothing is
            downloaded at run time.
        **model_overrides: keys merged into the config's ``model`` dict.
    """
    if pretrained is True:
        raise ValueError(
            f'cfg_path {cfg_path!r} with pretrained=True would download weights; '
            'mmrazor never downloads at run time. Pass the path of a local '
            'checkpoint as pretrained=... instead.')
    cfg = load_upstream_config(cfg_path)
    if 'model' not in cfg:
        raise KeyError(f'cfg_path {cfg_path!r} has no "model" in its config')
    if model_overrides:
        cfg.merge_from_dict(dict(model=model_overrides))
    model_cfg = cfg.model
    with DefaultScope.overwrite_default_scope(model_scope(cfg, cfg_path)):
        model = ROOT_MODELS.build(model_cfg)
    if pretrained:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, pretrained, map_location='cpu', strict=True)
    return model


def build_model_from_config(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` as the Runner would, without loading or downloading weights.

    The config may be an mmrazor algorithm, a plain mmpretrain/mmdet/mmseg config or a
    ``model = dict(cfg_path=...)``; it is built in the config's ``default_scope``, with
    a top-level ``data_preprocessor`` (mmpretrain style) merged into the model.
    """
    from mmrazor.registry import MODELS
    if not isinstance(cfg.get('model'), dict):
        raise KeyError('the config has no "model" dict to build')
    model_cfg = cfg.model.copy()
    if 'data_preprocessor' in cfg and 'cfg_path' not in model_cfg:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmrazor')):
        return MODELS.build(model_cfg)

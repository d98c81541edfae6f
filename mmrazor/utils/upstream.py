"""Load upstream (mmpretrain / mmdet / mmseg / local) configs and build their models.

``cfg_path`` is ``'package::relative/path.py'`` for a config shipped by an installed
package (``mmcls::`` reads mmpretrain's config of the same path) or a path to a local
config file, which MMRazor 1.x could not load (its issue #460).
"""
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
from .compat.mmcls import renamed_config_path
from .lookup import closest_names
from .weights import local_checkpoint_path

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
    scope, _, relative = renamed_config_path(cfg_path).partition('::')
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
    close = closest_names(osp.basename(relative), sorted(os.listdir(folder)), n=3)
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


def _published_weights(cfg_path: str, cfg: Config) -> str:
    """The checkpoint a config publishes, for ``pretrained=True``.

    The ``Weights`` of the config in its package's metafiles (what MMEngine's
    ``get_model(pretrained=True)`` loads, as MMRazor 1.x did); else the config's
    ``load_from``; else a ``Pretrained`` ``init_cfg`` of its ``model``.
    """
    path, scope = resolve_cfg_path(cfg_path)
    if scope is not None:
        from mmengine.config.utils import _get_cfg_metainfo
        package_dir = osp.dirname(importlib.util.find_spec(
            MMCLS_TARGET if scope == MMCLS_ALIAS else scope).origin)
        if osp.isfile(osp.join(package_dir, '.mim', 'model-index.yml')):
            try:
                weights = _get_cfg_metainfo(
                    package_dir, renamed_config_path(cfg_path).partition('::')[2])
            except ValueError:  # the config is not in the metafiles
                weights = {}
            if weights.get('Weights'):
                return weights['Weights']
    if cfg.get('load_from'):
        return cfg.load_from
    init_cfg = cfg.model.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        return init_cfg['checkpoint']
    raise ValueError(
        f'cfg_path {cfg_path!r} with pretrained=True: the config publishes no weights '
        f'(no "Weights" in its package metafiles, no load_from, no Pretrained '
        f'model.init_cfg; config file {path}). Pass the checkpoint instead: '
        "pretrained='/local/path.pth' or a URL cached in $TORCH_HOME/hub/checkpoints.")


def build_model_from_cfg_path(cfg_path: str,
                              pretrained: Union[bool, str] = False,
                              **model_overrides) -> nn.Module:
    """Build the ``model`` of the config at ``cfg_path`` in that config's scope.

    Args:
        cfg_path (str): ``'package::path.py'`` or a local config file.
        pretrained (bool | str): ``False``; a checkpoint (local file or URL); or
            ``True``: the config's published weights (see :func:`_published_weights`).
            URLs resolve to the ``torch.hub`` cache and load as weights only
            (:mod:`mmrazor.utils.weights`); nothing is downloaded. Defaults to False.
        **model_overrides: keys merged into the config's ``model`` dict.
    """
    cfg = load_upstream_config(cfg_path)
    if 'model' not in cfg:
        raise KeyError(f'cfg_path {cfg_path!r} has no "model" in its config')
    if model_overrides:
        cfg.merge_from_dict(dict(model=model_overrides))
    model_cfg = cfg.model
    if pretrained is True:
        pretrained = _published_weights(cfg_path, cfg)
    with DefaultScope.overwrite_default_scope(model_scope(cfg, cfg_path)):
        model = ROOT_MODELS.build(model_cfg)
    if pretrained:
        from mmengine.runner import load_checkpoint
        # fails here, with the key to override, if a URL is not in the cache
        local_checkpoint_path(pretrained, override=(
            f"pass pretrained='/local/path.pth' with cfg_path={cfg_path!r}"))
        load_checkpoint(model, pretrained, map_location='cpu', strict=True)
        # the loaded weights must survive the Runner's init_weights()
        model._is_init = True
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

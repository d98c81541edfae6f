"""Load checkpoints as weights, offline: the one path for every checkpoint mmrazor reads.

* Names with a URL scheme (``https://``, ``http://``, ``torchvision://``,
  ``modelzoo://``, ``open-mmlab://``, ``openmmlab://``, ``mmcls://``) resolve to the file
  MMEngine and ``torch.hub`` would have downloaded them to,
  ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``. A cached file loads; a
  missing one is an error that names the URL, the path to put the file at and the
  config key to override. Nothing is ever downloaded.
* Every file is unpickled with ``weights_only=True``: a checkpoint can run code when it
  is unpickled, and teachers, ``load_from`` and ``init_cfg`` weights come from others.
  Only the few types MMEngine's own Runner checkpoints hold are allow-listed
  (:data:`mmrazor.utils.compat.checkpoint.runner_checkpoint_globals`), so ``--resume``
  keeps working.

:func:`mmrazor.utils.compat.checkpoint.install_checkpoint_loaders` registers
:func:`load_weights` into MMEngine's ``CheckpointLoader``, so ``init_weights()``,
``load_checkpoint()``, ``load_from`` and ``resume`` all come here.
"""
import os.path as osp
import pickle
from typing import Any, Dict, Optional
from urllib.parse import urlparse

import torch

from .compat.checkpoint import runner_checkpoint_globals
from .lookup import NameLookupError, closest_names

HTTP_PREFIXES = ('https://', 'http://')
URL_PREFIXES = HTTP_PREFIXES + ('torchvision://', 'modelzoo://', 'open-mmlab://',
                                'openmmlab://', 'mmcls://')

# Where the checkpoint was named, for the "override it" part of the messages.
INIT_CFG_OVERRIDE = ('set it to a local file with --cfg-options, e.g. '
                     'model.backbone.init_cfg.checkpoint=/local/path.pth (or '
                     'model.backbone.init_cfg=None to skip the pretrained init), or '
                     'load_from=/local/path.pth')
TEACHER_OVERRIDE = '--cfg-options model.teacher_ckpt=/local/path.pth'


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint that holds Python objects other than weights."""


def is_url(name: str) -> bool:
    """Whether ``name`` is a checkpoint URL (or model-zoo name) rather than a file."""
    return name.startswith(URL_PREFIXES)


def _lookup(name: str, scheme: str, urls: Dict[str, str]) -> str:
    if name not in urls:
        close = closest_names(name, sorted(urls))
        raise NameLookupError(f'{scheme}{name} is not in MMEngine\'s {scheme} model list'
                              + (f'; closest: {", ".join(scheme + c for c in close)}'
                                 if close else ''))
    return urls[name]


def _openmmlab_url(name: str, scheme: str) -> str:
    from mmengine.runner.checkpoint import get_deprecated_model_names, get_external_models
    name = get_deprecated_model_names().get(name, name)
    return _lookup(name, scheme, get_external_models())


def checkpoint_url(name: str) -> str:
    """Map a model-zoo name to its URL the way MMEngine's loaders do.

    Args:
        name (str): ``'https://...'``, ``'torchvision://resnet50'``,
            ``'open-mmlab://resnet50_v1c'``, ``'mmcls://...'`` etc.

    Returns:
        str: The ``http(s)`` URL. MMEngine's ``open_mmlab.json`` in ``MMENGINE_HOME``
        may map a name to a path relative to ``MMENGINE_HOME`` instead.
    """
    from mmengine.runner import checkpoint as mme
    if name.startswith(HTTP_PREFIXES):
        return name
    scheme, _, model = name.partition('://')
    scheme += '://'
    if scheme in ('torchvision://', 'modelzoo://'):
        return _lookup(model, scheme, mme.get_torchvision_models())
    if scheme in ('open-mmlab://', 'openmmlab://'):
        return _openmmlab_url(model, scheme)
    if scheme == 'mmcls://':
        return _lookup(model, scheme, mme.get_mmcls_models())
    raise ValueError(f'{name!r} has no known URL scheme; valid: {", ".join(URL_PREFIXES)}')


def cached_file(url: str) -> str:
    """``<torch.hub.get_dir()>/checkpoints/<file name of url>``: where MMEngine and
    ``torch.hub.load_state_dict_from_url`` keep a downloaded ``url``."""
    return osp.join(torch.hub.get_dir(), 'checkpoints', osp.basename(urlparse(url).path))


def local_checkpoint_path(name: str, override: str = INIT_CFG_OVERRIDE) -> str:
    """The local file that holds checkpoint ``name``.

    Args:
        name (str): A local path or a URL / model-zoo name (see :data:`URL_PREFIXES`).
        override (str): How to point the caller's config at a local file instead, for
            the message of a missing cached file. Defaults to :data:`INIT_CFG_OVERRIDE`.

    Returns:
        str: The path; for an http(s) URL, the cached file, which exists.
    """
    if not is_url(name):
        return osp.expanduser(name)
    url = checkpoint_url(name)
    if not url.startswith(HTTP_PREFIXES):  # MMENGINE_HOME/open_mmlab.json: a local zoo
        from mmengine.runner.checkpoint import _get_mmengine_home
        return osp.join(_get_mmengine_home(), url)
    path = cached_file(url)
    if not osp.isfile(path):
        shown = name if name == url else f'{name} ({url})'
        raise FileNotFoundError(
            f'Checkpoint {shown} is not in the local cache, and mmrazor never downloads. '
            f'Put the file at {path} (the torch.hub cache: $TORCH_HOME/hub/checkpoints), '
            f'or {override}.')
    return path


def _refused_global(error: Exception) -> str:
    """What torch refused, without the advice around it (``Unsupported global: ...``)."""
    # torch re-raises the unpickler's short error inside a long message ``from None``
    inner = error.__context__ if isinstance(error.__context__, pickle.UnpicklingError) \
        else error
    text = str(inner).split('WeightsUnpickler error:', 1)[-1]
    lines = [line.strip() for line in text.splitlines() if line.strip()] or ['']
    return lines[0].split(' Please use')[0].rstrip('.')


def _torch_load(path: str, map_location: Any) -> Any:
    try:
        with torch.serialization.safe_globals(runner_checkpoint_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        raise UnsafeCheckpointError(
            f'Refusing to load {path}: it is not a plain weights file '
            f'({_refused_global(error)}). Checkpoints are unpickled with '
            'weights_only=True (tensors, containers, numbers, strings and the MMEngine '
            'Runner types HistoryBuffer and numpy arrays/scalars), because unpickling '
            'anything else can run code from the file. If you trust its source, re-save '
            "its weights once: torch.save({'state_dict': torch.load(path, "
            "weights_only=False)['state_dict']}, 'weights.pth').") from error


def load_weights(filename: str, map_location: Optional[Any] = None,
                 override: str = INIT_CFG_OVERRIDE) -> Any:
    """Load a checkpoint from a local file or a cached URL, weights only.

    Args:
        filename (str): A local path or a URL / model-zoo name (see :data:`URL_PREFIXES`).
        map_location (Any, optional): As for :func:`torch.load`. Defaults to None.
        override (str): See :func:`local_checkpoint_path`.
            Defaults to :data:`INIT_CFG_OVERRIDE`.

    Returns:
        Any: The checkpoint; for ``mmcls://`` the backbone weights, as MMEngine returns.
    """
    path = local_checkpoint_path(filename, override)
    if not osp.isfile(path):
        raise FileNotFoundError(f'Checkpoint file {path} does not exist')
    checkpoint = _torch_load(path, map_location)
    if filename.startswith('mmcls://'):
        from mmengine.runner.checkpoint import _process_mmcls_checkpoint
        checkpoint = _process_mmcls_checkpoint(checkpoint)
    return checkpoint


def load_from_weights_only(filename: str, map_location: Optional[Any] = None) -> Any:
    """The ``CheckpointLoader`` scheme for local files and URLs: :func:`load_weights`.

    (MMEngine logs "Loads checkpoint by weights_only backend", from this name.)
    """
    return load_weights(filename, map_location)

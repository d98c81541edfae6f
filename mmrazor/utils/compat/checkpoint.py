"""Load MMEngine checkpoints on torch >= 2.6.

torch 2.6 made ``torch.load`` default to ``weights_only=True``. MMEngine 0.10.7's
Runner checkpoints hold its message hub (``HistoryBuffer``, numpy scalars), so
``resume=True``, ``load_from=`` and ``load_checkpoint()`` all fail with
"Weights only load failed ... Unsupported global". We re-register MMEngine's loader
for local files (the only scheme affected) with ``weights_only=False``.

Security: unpickling trusts the file. Load checkpoints only from sources you trust,
exactly as with torch < 2.6.
"""
import os.path as osp
from typing import Any, Optional

import torch

_applied = False


def _load_from_local(filename: str, map_location: Optional[Any] = None) -> Any:
    """MMEngine's ``load_from_local`` with ``weights_only=False``."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


def trust_local_checkpoints() -> None:
    """Make MMEngine load local checkpoints the way it did before torch 2.6."""
    global _applied
    if _applied:
        return
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', force=True)(_load_from_local)
    _applied = True

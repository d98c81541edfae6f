"""Search checkpoints: written atomically, read without running code from the file.

A checkpoint (``search_epoch_<n>.pkl``) is a pickle of plain Python data only
(dicts, lists, strings, numbers, bytes): the epoch, the candidate pools and the
random states of Python, numpy and torch, so a resumed search draws exactly what
the uninterrupted one would have drawn. It is read by an unpickler that refuses
every global except MMRazor's ``Candidates`` class (MMRazor's own checkpoints
pickle it), so a tampered file cannot run code.
"""
import io
import os
import os.path as osp
import pickle
import random
import tempfile
from typing import Any, Dict

import numpy as np
import torch

from mmrazor.structures.subnet.candidate import Candidates

# (module, name) pairs a checkpoint may reference, and what they load as
ALLOWED_GLOBALS = {
    ('mmrazor.structures.subnet.candidate', 'Candidates'): Candidates,
}


class _DataUnpickler(pickle.Unpickler):

    def find_class(self, module: str, name: str) -> Any:
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f'a search checkpoint holds data only; it references {module}.{name}, '
                f'which is refused (allowed: '
                f'{", ".join(".".join(key) for key in ALLOWED_GLOBALS)})')
        return allowed


def load_data_pickle(path: str) -> Any:
    """Unpickle ``path`` allowing plain data (and ``Candidates``) only."""
    with open(path, 'rb') as file:
        return _DataUnpickler(io.BytesIO(file.read())).load()


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over
    ``path``: a killed process leaves the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(osp.abspath(path)), suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def get_rng_states() -> Dict[str, Any]:
    """The global random states of Python, numpy and torch, as plain data."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    states: Dict[str, Any] = dict(
        python=random.getstate(),
        numpy=(name, keys.tolist(), pos, has_gauss, cached),
        torch=torch.get_rng_state().numpy().tobytes())
    if torch.cuda.is_available():
        states['cuda'] = [s.numpy().tobytes() for s in torch.cuda.get_rng_state_all()]
    return states


def _byte_tensor(data: bytes) -> torch.Tensor:
    return torch.frombuffer(bytearray(data), dtype=torch.uint8)


def set_rng_states(states: Dict[str, Any]) -> None:
    """Restore the states of :func:`get_rng_states`."""
    version, internal, gauss = states['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = states['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(_byte_tensor(states['torch']))
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_byte_tensor(s) for s in states['cuda']])


def dump_data_pickle(data: Any, path: str) -> None:
    """Pickle plain data to ``path`` atomically."""
    atomic_write(path, pickle.dumps(data, protocol=4))

"""Load MMEngine checkpoints on torch >= 2.6, weights only, offline.

torch 2.6 made ``torch.load`` default to ``weights_only=True``. MMEngine 0.10.7's
Runner checkpoints hold its message hub (``HistoryBuffer``, numpy arrays and scalars),
so ``resume=True``, ``load_from=`` and ``load_checkpoint()`` all fail with
"Weights only load failed ... Unsupported global". Rather than unpickling everything
(which lets a checkpoint run code), we keep ``weights_only=True`` and allow-list exactly
those types (:func:`runner_checkpoint_globals`).

:func:`install_checkpoint_loaders` makes :func:`mmrazor.utils.weights.load_weights`
MMEngine's loader for local files and for every URL scheme, so checkpoints named by URL
resolve to the ``torch.hub`` cache and nothing is downloaded.
"""
from typing import Any, Callable, List, Tuple, Union

import numpy as np

_applied = False

SafeGlobal = Union[Callable, Tuple[Callable, str]]


def _history_buffer_method(owner: Any, name: str) -> Callable:
    """``builtins.getattr`` as a checkpoint may use it: only for the statistics methods
    that a pickled ``HistoryBuffer`` refers to (``getattr(HistoryBuffer, 'min')``)."""
    import pickle

    from mmengine.logging import HistoryBuffer

    # the defaults are registered by the first HistoryBuffer(), maybe not yet made here
    methods = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in methods:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'Trying to call getattr({owner!r}, {name!r}): checkpoints may only use getattr '
        f'for the statistics methods of HistoryBuffer, {sorted(methods)}')


def runner_checkpoint_globals() -> List[SafeGlobal]:
    """The globals, beyond torch's defaults, that MMEngine's Runner checkpoints need.

    ``HistoryBuffer`` (rebuilt from its ``__dict__``, no code runs), numpy arrays,
    dtypes (and their classes) and scalars (under numpy 1 and numpy 2 module names),
    and a ``getattr`` limited to ``HistoryBuffer``'s statistics methods.
    """
    from mmengine.logging import HistoryBuffer
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    found: List[SafeGlobal] = [HistoryBuffer, np.ndarray, np.dtype,
                               (_history_buffer_method, 'builtins.getattr')]
    # numpy >= 1.25 gives each dtype its own class (``numpy.dtypes.Float64DType``)
    dtypes = getattr(np, 'dtypes', None)
    found += [getattr(dtypes, name) for name in getattr(dtypes, '__all__', [])]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        found += [(multiarray.scalar, f'{module}.scalar'),
                  (multiarray._reconstruct, f'{module}._reconstruct')]
    return found


def install_checkpoint_loaders() -> None:
    """Make MMEngine load local files and URLs through
    :func:`mmrazor.utils.weights.load_from_weights_only`."""
    global _applied
    if _applied:
        return
    from mmengine.runner.checkpoint import CheckpointLoader

    from ..weights import URL_PREFIXES, load_from_weights_only
    CheckpointLoader.register_scheme(prefixes=('', ) + URL_PREFIXES, force=True,
                                     loader=load_from_weights_only)
    _applied = True

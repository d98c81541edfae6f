"""``BaseHandler``: the regression model behind a ``MetricPredictor``."""
import os.path as osp
from abc import ABCMeta, abstractmethod
from typing import Dict, Tuple

import numpy as np

Arrays = Dict[str, np.ndarray]


def check_train_data(train_data: np.ndarray,
                     train_label: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """``(data, label)`` as float arrays of shape ``(n, d)`` and ``(n, )``, or a clear
    error."""
    data = np.asarray(train_data, dtype=np.float64)
    label = np.asarray(train_label, dtype=np.float64).reshape(-1)
    if data.ndim != 2 or len(data) == 0:
        raise ValueError(f'train_data must be a non-empty 2-d array (samples, features), '
                         f'got shape {data.shape}')
    if len(data) != len(label):
        raise ValueError(f'train_data has {len(data)} samples but train_label has '
                         f'{len(label)}')
    return data, label


class BaseHandler(metaclass=ABCMeta):
    """Fits encoded subnets to their scores and predicts the score of others.

    A handler's checkpoint is plain arrays (an ``.npz`` read with
    ``allow_pickle=False``), never pickled objects, so loading one cannot run code.
    Subclasses give the arrays that rebuild them (:meth:`state_arrays`) and rebuild
    from them (:meth:`load_state_arrays`).

    Note:
        The handler works through a specific machine learning algorithm; which one
        is the subclass (trees, Gaussian process, MLP, radial basis functions).
    """

    num_features: int = -1  # the input dimension it was fitted on; -1: not fitted

    @abstractmethod
    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Fit ``(samples, features)`` data to one label per sample."""

    def predict(self, test_data: np.ndarray) -> np.ndarray:
        """The predicted labels, shape ``(samples, )``."""
        if self.num_features < 0:
            raise RuntimeError(f'{type(self).__name__} is not fitted: call fit() or load() '
                               'first')
        data = np.atleast_2d(np.asarray(test_data, dtype=np.float64))
        if data.shape[1] != self.num_features:
            raise ValueError(f'{type(self).__name__} was fitted on {self.num_features} '
                             f'features, got data with {data.shape[1]}')
        return np.asarray(self._predict(data), dtype=np.float64).reshape(-1)

    @abstractmethod
    def _predict(self, data: np.ndarray) -> np.ndarray:
        """Predict a checked ``(samples, num_features)`` array."""

    @abstractmethod
    def state_arrays(self) -> Arrays:
        """The arrays that rebuild the fitted handler."""

    @abstractmethod
    def load_state_arrays(self, arrays: Arrays) -> None:
        """Rebuild the fitted handler from :meth:`state_arrays`."""

    def save(self, path: str) -> str:
        """Save to ``<path>_<handler name>.npz`` and return that path."""
        if self.num_features < 0:
            raise RuntimeError(f'{type(self).__name__} is not fitted: nothing to save')
        path = f'{path}_{type(self).__name__.lower()}.npz'
        np.savez(path, handler=np.array(type(self).__name__), **self.state_arrays())
        return path

    def load(self, path: str) -> None:
        """Load a checkpoint :meth:`save` wrote (arrays only: no code runs)."""
        if not osp.isfile(path):
            raise FileNotFoundError(f'handler checkpoint {path} does not exist')
        with np.load(path, allow_pickle=False) as file:
            arrays = dict(file)
        saved_by = str(arrays.pop('handler', '?'))
        if saved_by != type(self).__name__:
            raise ValueError(f'{path} was saved by {saved_by}, not by {type(self).__name__}')
        self.load_state_arrays(arrays)

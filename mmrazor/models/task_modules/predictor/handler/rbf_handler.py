"""``RBFHandler``: radial basis function interpolation with a polynomial tail."""
import numpy as np
from scipy.interpolate import RBFInterpolator

from mmrazor.registry import TASK_UTILS

from .base_handler import Arrays, BaseHandler, check_train_data

# MMRazor's (pySOT's) names -> scipy's kernel names and polynomial degrees
KERNELS = {'tps': 'thin_plate_spline', 'cubic': 'cubic'}
TAILS = {'linear': 1, 'constant': 0}


@TASK_UTILS.register_module()
class RBFHandler(BaseHandler):
    """Radial basis function handler: interpolates the scores of the training
    subnets with ``kernel`` plus a polynomial ``tail`` (scipy's
    ``RBFInterpolator``).

    A subnet seen more than once is one point with its mean score (the interpolant
    passes through each point once). The checkpoint stores the points; loading
    solves the same system again, which reproduces the predictions exactly.

    Args:
        kernel (str): 'tps' (thin-plate spline) or 'cubic'. Defaults to 'tps'.
        tail (str): 'linear' or 'constant'. Defaults to 'linear'.
    """

    def __init__(self, kernel: str = 'tps', tail: str = 'linear') -> None:
        if kernel not in KERNELS:
            raise ValueError(f'kernel must be one of {list(KERNELS)}, got {kernel!r}')
        if tail not in TAILS:
            raise ValueError(f'tail must be one of {list(TAILS)}, got {tail!r}')
        self.kernel = kernel
        self.tail = tail

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Interpolate the distinct points (more are needed than features)."""
        data, label = check_train_data(train_data, train_label)
        points, index = np.unique(data, axis=0, return_inverse=True)
        index = index.reshape(-1)
        values = np.bincount(index, weights=label) / np.bincount(index)
        if len(points) <= points.shape[1]:
            raise ValueError(f'RBFHandler needs more distinct samples than features: got '
                             f'{len(points)} distinct samples of {points.shape[1]} features')
        self._set_state(dict(points=points, values=values))

    def _set_state(self, arrays: Arrays) -> None:
        self.points, self.values = arrays['points'], arrays['values']
        self.interpolator = RBFInterpolator(self.points, self.values,
                                            kernel=KERNELS[self.kernel],
                                            degree=TAILS[self.tail])
        self.num_features = self.points.shape[1]

    def _predict(self, data: np.ndarray) -> np.ndarray:
        return self.interpolator(data)

    def state_arrays(self) -> Arrays:
        return dict(points=self.points, values=self.values, kernel=np.array(self.kernel),
                    tail=np.array(self.tail))

    def load_state_arrays(self, arrays: Arrays) -> None:
        saved = (str(arrays['kernel']), str(arrays['tail']))
        if saved != (self.kernel, self.tail):
            raise ValueError(f'the checkpoint was fitted with kernel={saved[0]!r}, '
                             f'tail={saved[1]!r}; this handler has kernel={self.kernel!r}, '
                             f'tail={self.tail!r}')
        self._set_state(arrays)

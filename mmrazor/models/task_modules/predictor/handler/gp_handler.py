"""``GaussProcessHandler``: Kriging, a regression trend plus a Gaussian process."""
import warnings
from typing import Callable, Dict

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Kernel, Matern, WhiteKernel

from mmrazor.registry import TASK_UTILS

from .base_handler import Arrays, BaseHandler, check_train_data


def _quadratic(x: np.ndarray) -> np.ndarray:
    rows, cols = np.triu_indices(x.shape[1])
    return np.hstack([np.ones((len(x), 1)), x, x[:, rows] * x[:, cols]])


# the trend's basis functions of the (normalised) inputs, as DACE's regr_* give them
REGR: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    'constant': lambda x: np.ones((len(x), 1)),
    'linear': lambda x: np.hstack([np.ones((len(x), 1)), x]),
    'quadratic': _quadratic,
}
# the correlation of two inputs as a function of their distance
CORR: Dict[str, Callable[[], Kernel]] = {
    'gauss': lambda: RBF(length_scale=1.0, length_scale_bounds=(1e-2, 1e3)),
    'exp': lambda: Matern(length_scale=1.0, length_scale_bounds=(1e-2, 1e3), nu=0.5),
}


@TASK_UTILS.register_module()
class GaussProcessHandler(BaseHandler):
    """Gaussian process (Kriging) handler, as DACE fits it: inputs and labels are
    normalised, a least-squares trend (``regr``) is fitted, and a Gaussian process
    with correlation ``corr`` models what the trend leaves.

    The trend is the minimum-norm least-squares fit, so it exists with fewer samples
    than basis functions (20 one-hot encoded ShuffleNet subnets have 81). The
    process's hyperparameters (signal variance, length scale, a small noise level
    for scores that are noisy measurements) are fitted by scikit-learn's marginal
    likelihood. The checkpoint stores the training data and those fitted values;
    loading refits with them fixed, which reproduces the predictions exactly.

    Args:
        regr (str): The trend: 'constant', 'linear' or 'quadratic'.
            Defaults to 'linear'.
        corr (str): The correlation: 'gauss' (squared exponential) or 'exp'
            (exponential). Defaults to 'gauss'.
    """

    def __init__(self, regr: str = 'linear', corr: str = 'gauss') -> None:
        if regr not in REGR:
            raise ValueError(f'regr must be one of {list(REGR)}, got {regr!r}')
        if corr not in CORR:
            raise ValueError(f'corr must be one of {list(CORR)}, got {corr!r}')
        self.regr = regr
        self.corr = corr

    def _kernel(self) -> Kernel:
        return ConstantKernel(1.0, (1e-3, 1e3)) * CORR[self.corr]() + WhiteKernel(
            1e-3, (1e-8, 1.0))

    def fit(self, train_data: np.ndarray, train_label: np.ndarray) -> None:
        """Fit the trend, then the process's hyperparameters on its residuals."""
        data, label = check_train_data(train_data, train_label)
        stats = dict(x_mean=data.mean(0), x_std=data.std(0) + 1e-6,
                     y_mean=np.array(label.mean()), y_std=np.array(label.std() + 1e-6))
        process = GaussianProcessRegressor(self._kernel())
        with warnings.catch_warnings():
            # hyperparameters at a bound are expected when the trend explains the
            # labels (nothing left for the process), not a failure
            warnings.simplefilter('ignore', ConvergenceWarning)
            process.fit(*self._residuals(data, label, stats))
        self._set_state(dict(stats, data=data, label=label, theta=process.kernel_.theta))

    def _residuals(self, data: np.ndarray, label: np.ndarray, stats: Arrays) -> tuple:
        """Normalised inputs and what the trend leaves of the normalised labels;
        the trend's coefficients go into ``stats['beta']``."""
        x = (data - stats['x_mean']) / stats['x_std']
        y = (label - stats['y_mean']) / stats['y_std']
        basis = REGR[self.regr](x)
        stats['beta'] = np.linalg.lstsq(basis, y, rcond=None)[0]
        return x, y - basis @ stats['beta']

    def _set_state(self, arrays: Arrays) -> None:
        """Refit the process with the fitted hyperparameters fixed (no optimiser),
        the one path both fit and load take, so both predict the same."""
        self.stats = {k: arrays[k] for k in ('x_mean', 'x_std', 'y_mean', 'y_std')}
        self.data, self.label, self.theta = arrays['data'], arrays['label'], arrays['theta']
        x, residual = self._residuals(self.data, self.label, self.stats)
        self.process = GaussianProcessRegressor(
            self._kernel().clone_with_theta(self.theta), optimizer=None).fit(x, residual)
        self.num_features = self.data.shape[1]

    def _predict(self, data: np.ndarray) -> np.ndarray:
        x = (data - self.stats['x_mean']) / self.stats['x_std']
        y = REGR[self.regr](x) @ self.stats['beta'] + self.process.predict(x)
        return y * self.stats['y_std'] + self.stats['y_mean']

    def state_arrays(self) -> Arrays:
        return dict(data=self.data, label=self.label, theta=self.theta,
                    regr=np.array(self.regr), corr=np.array(self.corr),
                    **{k: v for k, v in self.stats.items() if k != 'beta'})

    def load_state_arrays(self, arrays: Arrays) -> None:
        saved = (str(arrays['regr']), str(arrays['corr']))
        if saved != (self.regr, self.corr):
            raise ValueError(f'the checkpoint was fitted with regr={saved[0]!r}, '
                             f'corr={saved[1]!r}; this handler has regr={self.regr!r}, '
                             f'corr={self.corr!r}')
        self._set_state(arrays)

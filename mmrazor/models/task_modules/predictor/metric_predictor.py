"""``MetricPredictor``: predicts a subnet's score from its encoded choices."""
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch.nn as nn
from scipy import stats

from mmrazor.registry import TASK_UTILS
from mmrazor.utils.lookup import NameLookupError, closest_names

from .handler import BaseHandler, RBFHandler

ENCODING_TYPES = ('normal', 'onehot')
Subnet = Dict[str, Any]
Vector = Dict[str, List[int]]


@TASK_UTILS.register_module()
class MetricPredictor:
    """Predicts an evaluation metric of subnets with a regression handler.

    A subnet (``{search group: choice}``) is encoded per group either as the index
    of its choice (``'normal'``) or as a one-hot vector over the group's choices
    (``'onehot'``), concatenated in the order of ``search_groups``. The handler is
    fitted on evaluated subnets (:meth:`fit`) or loaded from ``handler_ckpt``, then
    :meth:`predict` scores the subnet a model has chosen. ``EvolutionSearchLoop``
    builds it from ``predictor_cfg`` with its ``score_key`` and its mutator's
    ``search_groups``.

    Args:
        handler_cfg (dict): The handler (TASK_UTILS), e.g.
            ``dict(type='mmrazor.GaussProcessHandler')``.
        search_groups (dict): ``{group key: mutables}`` of the supernet's mutator.
        train_samples (int | str): Evaluated subnets the handler is fitted on, or a
            file of them. Defaults to 2.
        handler_ckpt (str, optional): A handler checkpoint to load instead of
            fitting. Defaults to None.
        encoding_type (str): 'onehot' or 'normal'; an ``RBFHandler`` always uses
            'normal' (a linear tail on one-hot groups is singular, since each
            group's columns sum to 1). Defaults to 'onehot'.
        score_key (str): The metric predicted. Defaults to 'accuracy_top-1'.

    Example:
        >>> predictor_cfg = dict(type='mmrazor.MetricPredictor', train_samples=20,
        ...                      handler_cfg=dict(type='mmrazor.GaussProcessHandler'))
    """

    def __init__(self,
                 handler_cfg: Dict,
                 search_groups: Dict[str, List[nn.Module]],
                 train_samples: Union[int, str] = 2,
                 handler_ckpt: Optional[str] = None,
                 encoding_type: str = 'onehot',
                 score_key: str = 'accuracy_top-1') -> None:
        if encoding_type not in ENCODING_TYPES:
            raise ValueError(f'encoding_type must be one of {ENCODING_TYPES}, got '
                             f'{encoding_type!r}')
        self.handler_cfg = handler_cfg
        self.handler = TASK_UTILS.build(handler_cfg)
        if not isinstance(self.handler, BaseHandler):
            raise TypeError(f'handler_cfg must build a predictor handler (CartsHandler, '
                            f'GaussProcessHandler, MLPHandler, RBFHandler), got '
                            f'{type(self.handler).__name__}')
        self.encoding_type = 'normal' if isinstance(self.handler, RBFHandler) else \
            encoding_type
        if not search_groups:
            raise ValueError('search_groups is empty: there is nothing to encode')
        self.choices = {key: list(group[0].choices) for key, group in search_groups.items()}
        self.search_groups = search_groups
        self.train_samples = train_samples
        self.handler_ckpt = handler_ckpt
        self.score_key = score_key
        self.initialize = False  # fitted or loaded

    # ---- encoding -------------------------------------------------------------------

    def model2vector(self, model: Subnet) -> Vector:
        """Both encodings of a subnet: ``dict(normal_vector, onehot_vector)``."""
        unknown = [key for key in model if key not in self.choices]
        if unknown:
            groups = list(self.choices)
            hints = '; '.join(f'{key!r} (did you mean {closest_names(str(key), groups)}?)'
                              for key in unknown[:5])
            raise NameLookupError(f'unknown search groups {hints}; the groups are '
                                  f'{list(self.choices)}')
        missing = [key for key in self.choices if key not in model]
        if missing:
            raise NameLookupError(f'the subnet needs a choice for every search group; '
                                  f'missing {missing}')
        vector: Vector = dict(normal_vector=[], onehot_vector=[])
        for key, choices in self.choices.items():
            if model[key] not in choices:
                raise ValueError(f'search group {key!r}: choice {model[key]!r} is not one '
                                 f'of {choices}')
            index = choices.index(model[key])
            vector['normal_vector'].append(index)
            vector['onehot_vector'].extend(int(i == index) for i in range(len(choices)))
        return vector

    def vector2model(self, vector: Union[np.ndarray, Sequence[float]]) -> Subnet:
        """The subnet a vector of ``encoding_type`` encodes."""
        vector = np.asarray(vector).reshape(-1)
        length = len(self.choices) if self.encoding_type == 'normal' else sum(
            len(c) for c in self.choices.values())
        if len(vector) != length:
            raise ValueError(f'a {self.encoding_type} vector of this space has {length} '
                             f'entries, got {len(vector)}')
        model, start = {}, 0
        for key, choices in self.choices.items():
            if self.encoding_type == 'normal':
                index, start = int(vector[start]), start + 1
            else:
                part = vector[start:start + len(choices)]
                if sorted(part.tolist()) != [0] * (len(choices) - 1) + [1]:
                    raise ValueError(f'search group {key!r}: {part.tolist()} is not one-hot')
                index, start = int(np.argmax(part)), start + len(choices)
            if not 0 <= index < len(choices):
                raise ValueError(f'search group {key!r}: index {index} is not in [0, '
                                 f'{len(choices)})')
            model[key] = choices[index]
        return model

    def preprocess(self, data: Union[Sequence[Vector], np.ndarray]) -> np.ndarray:
        """``model2vector`` outputs (or already encoded rows) as a 2-d array."""
        if len(data) and isinstance(data[0], dict):
            data = [row[f'{self.encoding_type}_vector'] for row in data]
        return np.asarray(data, dtype=np.float64)

    # ---- fit and predict ------------------------------------------------------------

    def fit(self, data: Union[Sequence[Vector], np.ndarray], label: np.ndarray) -> None:
        """Fit the handler on encoded subnets and their scores."""
        self.handler.fit(self.preprocess(data), np.asarray(label, dtype=np.float64))
        self.initialize = True

    def predict(self, model: Union[nn.Module, Subnet]) -> Dict[str, float]:
        """``{score_key: predicted score}`` of the subnet an algorithm (with a
        ``mutator``) has chosen, or of a subnet dict."""
        if not self.initialize:
            raise RuntimeError('MetricPredictor is not fitted: call fit() or '
                               'load_checkpoint() before predict()')
        subnet = model.mutator.current_choices if isinstance(model, nn.Module) else model
        data = self.preprocess([self.model2vector(subnet)])
        return {self.score_key: float(self.handler.predict(data)[0])}

    @staticmethod
    def get_correlation(prediction: np.ndarray, label: np.ndarray) -> List[float]:
        """``[rmse, Spearman's rho, Kendall's tau]`` of predictions and labels."""
        prediction, label = np.asarray(prediction).reshape(-1), np.asarray(label).reshape(-1)
        rmse = float(np.sqrt(((prediction - label)**2).mean()))
        return [rmse, float(stats.spearmanr(prediction, label)[0]),
                float(stats.kendalltau(prediction, label)[0])]

    # ---- checkpoints ----------------------------------------------------------------

    def save_checkpoint(self, path: str) -> str:
        """Save the handler beside ``path`` (a suffix names the handler); return the
        file's path."""
        return self.handler.save(path)

    def load_checkpoint(self) -> None:
        """Load the handler from ``handler_ckpt``."""
        if not self.handler_ckpt:
            raise ValueError('load_checkpoint needs handler_ckpt, which is not set')
        self.handler.load(self.handler_ckpt)
        self.initialize = True

"""``CRDDataset``: contrastive negatives for CRD (Tian et al., ICLR 2020).

https://arxiv.org/abs/1910.10699. CRD contrasts each sample's embedding with those
of K other samples kept in a memory bank. Drawing the K negatives from other classes
(the paper's ``exact`` / ``relax`` sampling) keeps same-class samples from being
pushed apart; ``CRDLoss`` reads them from the data sample's
``contrast_sample_idxs`` (the positive first, then the K negatives).
"""
import copy
from typing import Any, Dict, List, Optional, Union

import numpy as np
from mmengine.dataset import BaseDataset, force_full_init

from mmrazor.registry import DATASETS

# 'relax' is the name of MMRazor's 'random' mode in the CRD authors' code.
SAMPLE_MODES = ('exact', 'random', 'relax')


@DATASETS.register_module()
class CRDDataset:
    """Wrap a classification dataset so that each training sample carries
    ``contrast_sample_idxs``: ``neg_num + 1`` dataset indices, the positive first
    (the sample itself in ``'exact'`` mode, a random sample of its class in
    ``'random'``/``'relax'`` mode), then ``neg_num`` samples of other classes.

    Test-mode datasets get no contrast indices. Draws use NumPy's global generator,
    which MMEngine seeds per worker (``randomness=dict(seed=...)``).

    Args:
        dataset (BaseDataset | dict): The dataset (or its config), with
            ``get_gt_labels()`` (mmpretrain's datasets have it).
        neg_num (int): Negatives per sample (K).
        percent (float): Fraction of each class's negative pool kept (drawn once);
            1.0 keeps all of it.
        lazy_init (bool): Defer loading the annotations to ``full_init()``.
            Defaults to False.
        num_classes (int, optional): Number of classes. Defaults to None: the
            length of the dataset's ``metainfo['classes']``.
        sample_mode (str): ``'exact'``, ``'random'`` or ``'relax'``.
            Defaults to 'exact'.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 neg_num: int,
                 percent: float,
                 lazy_init: bool = False,
                 num_classes: Optional[int] = None,
                 sample_mode: str = 'exact') -> None:
        if sample_mode not in SAMPLE_MODES:
            raise ValueError(f'CRDDataset: sample_mode must be one of {SAMPLE_MODES}, '
                             f'got {sample_mode!r}')
        if not isinstance(neg_num, int) or neg_num <= 0:
            raise ValueError(f'CRDDataset: neg_num must be a positive int, got {neg_num!r}')
        if not 0 < percent <= 1:
            raise ValueError(f'CRDDataset: percent must be in (0, 1], got {percent!r}')
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError('CRDDataset: dataset must be a BaseDataset or its config, '
                            f'got {type(dataset).__name__}')
        self.dataset = dataset
        self.neg_num = neg_num
        self.percent = percent
        self.num_classes = num_classes
        self.sample_mode = sample_mode
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's meta information (a copy)."""
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset and index its samples by class."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        if not self.dataset.test_mode:
            self._index_classes()
        self._fully_initialized = True

    def _index_classes(self) -> None:
        self.gt_labels = np.asarray(self.dataset.get_gt_labels(), dtype=np.int64)
        num_classes = self.num_classes
        if num_classes is None:
            num_classes = len(self.dataset.metainfo.get('classes') or []) or \
                int(self.gt_labels.max()) + 1
        if self.gt_labels.size and self.gt_labels.max() >= num_classes:
            raise ValueError(f'CRDDataset: label {int(self.gt_labels.max())} does not fit '
                             f'num_classes={num_classes}')
        indices = np.arange(len(self.gt_labels))
        self.cls_positive: List[np.ndarray] = [
            indices[self.gt_labels == c] for c in range(num_classes)
        ]
        self.cls_negative: List[np.ndarray] = [
            indices[self.gt_labels != c] for c in range(num_classes)
        ]
        if self.percent < 1:
            # Classes may differ in size: keep the same fraction of each pool.
            self.cls_negative = [
                np.random.permutation(pool)[:max(1, int(len(pool) * self.percent))]
                for pool in self.cls_negative
            ]

    def _contrast_sample_idxs(self, idx: int) -> np.ndarray:
        label = self.gt_labels[idx]
        pos_idx = idx if self.sample_mode == 'exact' else \
            np.random.choice(self.cls_positive[label])
        pool = self.cls_negative[label]
        if len(pool) == 0:
            raise ValueError('CRDDataset: every sample has the same class, so there '
                             'are no negatives to contrast with')
        neg_idx = np.random.choice(pool, self.neg_num, replace=self.neg_num > len(pool))
        return np.concatenate(([pos_idx], neg_idx)).astype(np.int64)

    @force_full_init
    def get_data_info(self, idx: int) -> Dict:
        """The wrapped annotation, with ``contrast_sample_idxs`` when training."""
        data_info = self.dataset.get_data_info(idx)
        if not self.dataset.test_mode:
            data_info['contrast_sample_idxs'] = self._contrast_sample_idxs(idx)
        return data_info

    def prepare_data(self, idx: int) -> Any:
        """The ``idx``-th sample through the wrapped dataset's pipeline."""
        return self.dataset.pipeline(self.get_data_info(idx))

    def __getitem__(self, idx: int) -> Any:
        self.full_init()
        tries = 1 if self.dataset.test_mode else self.dataset.max_refetch + 1
        for _ in range(tries):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            # A random augmentation may reject a training sample: take another.
            idx = self.dataset._rand_another()
        raise RuntimeError(f'CRDDataset: the pipeline returned None for {tries} '
                           'samples in a row; check the pipeline')

    @force_full_init
    def __len__(self) -> int:
        return len(self.dataset)

    def get_subset(self, indices: Union[List[int], int]) -> None:
        """Refused: subsetting would change the indices the negatives refer to."""
        raise NotImplementedError('CRDDataset does not support get_subset: set '
                                  '`indices` on the wrapped dataset instead')

    get_subset_ = get_subset

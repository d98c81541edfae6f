"""Fashion-MNIST read offline through mmpretrain's dataset class."""
import gzip
import os

import numpy as np
import pytest

from mmrazor.datasets import OfflineFashionMNIST
from mmrazor.registry import DATASETS

from ..conftest import FASHION_MNIST_SOURCE


def test_full_splits_load_with_real_labels(fashion_mnist_root):
    train = DATASETS.build(dict(type='OfflineFashionMNIST', data_root=fashion_mnist_root,
                                split='train'))
    test = OfflineFashionMNIST(data_root=fashion_mnist_root, split='test')
    assert len(train) == 60000 and len(test) == 10000
    sample = test.get_data_info(0)
    assert sample['img'].shape == (28, 28) and sample['img'].dtype == np.uint8
    counts = np.bincount([int(test.get_data_info(i)['gt_label']) for i in range(len(test))])
    assert counts.tolist() == [1000] * 10  # Fashion-MNIST's test set is balanced
    assert test.metainfo['classes'][0] == 'T-shirt/top'


def test_extracted_files_match_the_archives(fashion_mnist_root):
    OfflineFashionMNIST(data_root=fashion_mnist_root, split='test', indices=10)
    name = 't10k-labels-idx1-ubyte'
    with gzip.open(os.path.join(FASHION_MNIST_SOURCE, name + '.gz'), 'rb') as f:
        assert open(os.path.join(fashion_mnist_root, name), 'rb').read() == f.read()
    assert not [f for f in os.listdir(fashion_mnist_root) if f.endswith('.part')]


def test_indices_give_a_slice(fashion_mnist_root):
    subset = OfflineFashionMNIST(data_root=fashion_mnist_root, split='train', indices=100)
    assert len(subset) == 100


def test_missing_data_says_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match='apt-get install -y dataset-fashion-mnist'):
        OfflineFashionMNIST(data_root=str(tmp_path / 'data'),
                            source_root=str(tmp_path / 'nothing'), split='test')
    assert not (tmp_path / 'data').exists() or not os.listdir(tmp_path / 'data')


def test_download_is_refused(tmp_path):
    with pytest.raises(ValueError, match='never downloads'):
        OfflineFashionMNIST(data_root=str(tmp_path), download=True)

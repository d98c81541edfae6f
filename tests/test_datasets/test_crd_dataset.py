"""CRDDataset and PackCRDClsInputs on real Fashion-MNIST images, feeding CRDLoss."""
import copy

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmrazor.datasets import CRDDataset, OfflineFashionMNIST, PackCRDClsInputs
from mmrazor.models.losses import CRDLoss
from mmrazor.registry import DATASETS

NUM = 2000  # the first 2000 training images: every class, fast to index
NEG = 64


@pytest.fixture(scope='module')
def train_set(fashion_mnist_root):
    return OfflineFashionMNIST(data_root=fashion_mnist_root, split='train', indices=NUM,
                               pipeline=[dict(type='mmrazor.PackCRDClsInputs')])


def _labels(dataset: CRDDataset) -> np.ndarray:
    return np.asarray(dataset.dataset.get_gt_labels())


def test_exact_mode_draws_negatives_of_other_classes(train_set):
    np.random.seed(0)
    crd = DATASETS.build(dict(type='CRDDataset', dataset=train_set, neg_num=NEG,
                              percent=1.0))
    labels = _labels(crd)
    assert crd.sample_mode == 'exact' and len(crd) == NUM
    assert sum(len(p) for p in crd.cls_positive) == NUM
    for idx in range(0, NUM, 37):
        contrast = crd.get_data_info(idx)['contrast_sample_idxs']
        assert contrast.shape == (NEG + 1, ) and contrast.dtype == np.int64
        assert contrast[0] == idx  # 'exact': the positive is the sample itself
        assert (labels[contrast[1:]] != labels[idx]).all()
        assert len(set(contrast[1:].tolist())) > NEG // 2  # drawn, not repeated


@pytest.mark.parametrize('mode', ['random', 'relax'])
def test_random_mode_positive_shares_the_class(train_set, mode):
    np.random.seed(1)
    crd = CRDDataset(train_set, neg_num=NEG, percent=1.0, sample_mode=mode)
    labels = _labels(crd)
    positives = []
    for idx in range(0, NUM, 101):
        contrast = crd.get_data_info(idx)['contrast_sample_idxs']
        assert labels[contrast[0]] == labels[idx]
        assert (labels[contrast[1:]] != labels[idx]).all()
        positives.append(contrast[0] == idx)
    assert not all(positives)  # some other sample of the class


def test_same_seed_same_negatives(train_set):
    def draw(seed: int) -> np.ndarray:
        np.random.seed(seed)
        crd = CRDDataset(train_set, neg_num=NEG, percent=0.5)
        return np.stack([crd.get_data_info(i)['contrast_sample_idxs'] for i in range(20)])

    assert np.array_equal(draw(3), draw(3))
    assert not np.array_equal(draw(3), draw(4))


def test_percent_keeps_that_fraction_of_each_negative_pool(train_set):
    full = CRDDataset(train_set, neg_num=NEG, percent=1.0)
    part = CRDDataset(train_set, neg_num=NEG, percent=0.25)
    labels = _labels(full)
    for c, (all_neg, kept) in enumerate(zip(full.cls_negative, part.cls_negative)):
        assert len(all_neg) == (labels != c).sum()
        assert len(kept) == int(len(all_neg) * 0.25)
        assert set(kept.tolist()) <= set(all_neg.tolist())
    idx = 5
    assert set(part.get_data_info(idx)['contrast_sample_idxs'][1:].tolist()) <= set(
        part.cls_negative[labels[idx]].tolist())


def test_more_negatives_than_the_pool_draws_with_replacement(train_set):
    crd = CRDDataset(train_set, neg_num=NUM, percent=1.0)
    contrast = crd.get_data_info(0)['contrast_sample_idxs']
    assert contrast.shape == (NUM + 1, )
    assert (_labels(crd)[contrast[1:]] != _labels(crd)[0]).all()


def test_test_mode_has_no_contrast_indices(fashion_mnist_root):
    test = OfflineFashionMNIST(data_root=fashion_mnist_root, split='test', indices=50,
                               pipeline=[dict(type='mmrazor.PackCRDClsInputs')])
    crd = CRDDataset(test, neg_num=NEG, percent=1.0)
    assert 'contrast_sample_idxs' not in crd.get_data_info(0)
    assert 'contrast_sample_idxs' not in crd[0]['data_samples']


def test_packed_negatives_drive_crd_loss(train_set):
    np.random.seed(0)
    crd = CRDDataset(train_set, neg_num=NEG, percent=1.0)
    batch = pseudo_collate([crd[i] for i in (4, 9, 1500)])
    samples = batch['data_samples']
    assert batch['inputs'][0].shape == (1, 28, 28)
    for sample, idx in zip(samples, (4, 9, 1500)):
        assert sample.sample_idx.dtype == torch.long and int(sample.sample_idx) == idx
        assert sample.contrast_sample_idxs.shape == (NEG + 1, )
        assert int(sample.contrast_sample_idxs[0]) == idx
        assert int(sample.gt_label) == _labels(crd)[idx]
    torch.manual_seed(0)
    loss = CRDLoss(neg_num=NEG, sample_n=NUM, dim_out=8)
    feats_s = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    feats_t = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    reference = copy.deepcopy(loss)
    value = loss(feats_s, feats_t, samples)
    # The loss scores exactly the packed indices against the memory.
    idx = torch.tensor([4, 9, 1500])
    contrast = torch.stack([s.contrast_sample_idxs for s in samples])
    out_s, out_t = reference.contrast(feats_s, feats_t, idx, contrast)
    from mmrazor.models.losses.crd_loss import contrast_loss
    expected = contrast_loss(out_s, NUM) + contrast_loss(out_t, NUM)
    assert torch.allclose(value, expected)
    # Other negatives give another loss.
    shuffled = copy.deepcopy(samples)
    for s in shuffled:
        s.contrast_sample_idxs = torch.cat([s.contrast_sample_idxs[:1],
                                            torch.randint(0, NUM, (NEG, ))])
    assert not torch.allclose(copy.deepcopy(reference)(feats_s, feats_t, shuffled), value)


def test_pack_keeps_other_meta_keys():
    packed = PackCRDClsInputs().transform(dict(
        img=np.zeros((4, 4, 3), np.uint8), gt_label=2, sample_idx=7, img_shape=(4, 4),
        contrast_sample_idxs=np.array([7, 1, 2])))
    sample = packed['data_samples']
    assert sample.img_shape == (4, 4)
    assert 'sample_idx' not in sample.metainfo_keys()
    assert sample.contrast_sample_idxs.tolist() == [7, 1, 2]


@pytest.mark.parametrize('kwargs,match', [
    (dict(sample_mode='balanced'), "sample_mode must be one of .*'exact'"),
    (dict(percent=0.0), r'percent must be in \(0, 1\]'),
    (dict(neg_num=0), 'neg_num must be a positive int'),
])
def test_bad_arguments(train_set, kwargs, match):
    args = dict(neg_num=NEG, percent=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        CRDDataset(train_set, **args)


def test_dataset_of_wrong_type():
    with pytest.raises(TypeError, match='must be a BaseDataset or its config'):
        CRDDataset([1, 2, 3], neg_num=NEG, percent=1.0)

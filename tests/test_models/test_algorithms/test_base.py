"""BaseAlgorithm on real mmpretrain models: modes, preprocessing, errors."""
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmpretrain.structures import DataSample

from mmrazor.models import BaseAlgorithm
from mmrazor.registry import MODELS

from ...conftest import REPO_ROOT

STUDENT_CFG = osp.join(REPO_ROOT, 'configs/_base_/models/resnet14-w16_fashion-mnist.py')


def _batch(n=4):
    data = {'inputs': [torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8) for _ in range(n)],
            'data_samples': [DataSample().set_gt_label(i % 10) for i in range(n)]}
    return data


def _algorithm(**kwargs):
    return MODELS.build(dict(
        type='BaseAlgorithm',
        architecture=dict(cfg_path=STUDENT_CFG, pretrained=False,
                          data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor',
                                                 mean=[72.9], std=[90.0])),
        **kwargs))


def test_modes_match_the_architecture():
    algo = _algorithm()
    algo.eval()
    data = algo.data_preprocessor(_batch(), False)
    logits = algo(**data, mode='tensor')
    assert logits.shape == (4, 10)
    assert torch.equal(logits, algo.architecture(**data, mode='tensor'))
    preds = algo(**data, mode='predict')
    assert len(preds) == 4 and preds[0].pred_score.shape == (10, )
    losses = algo(**data, mode='loss')
    assert set(losses) == {'loss'}


def test_train_step_updates_weights():
    algo = _algorithm()
    optim = torch.optim.SGD(algo.parameters(), lr=0.1)
    from mmengine.optim import OptimWrapper
    before = algo.architecture.head.fc.weight.detach().clone()
    log_vars = algo.train_step(_batch(), OptimWrapper(optim))
    assert log_vars['loss'] > 0
    assert not torch.equal(before, algo.architecture.head.fc.weight)


def test_preprocessor_defaults_to_the_architectures():
    algo = _algorithm()
    assert algo.data_preprocessor is algo.architecture.data_preprocessor
    data = algo.data_preprocessor(_batch(2), False)
    assert data['inputs'].dtype == torch.float32  # normalised, not raw uint8


def test_inplace_ops_are_disabled_unless_asked():
    assert not any(getattr(m, 'inplace', False) for m in _algorithm().modules())
    kept = _algorithm(module_inplace=True)
    assert any(getattr(m, 'inplace', False) for m in kept.modules())


def test_built_module_is_accepted():
    arch = MODELS.build(dict(cfg_path=STUDENT_CFG))
    assert BaseAlgorithm(arch).architecture is arch


def test_invalid_mode_lists_valid_modes():
    algo = _algorithm()
    with pytest.raises(RuntimeError, match='"loss", "tensor" and "predict"'):
        algo(torch.zeros(1, 1, 28, 28), mode='train')


def test_bad_architecture_type():
    with pytest.raises(TypeError, match='config dict or an nn.Module'):
        BaseAlgorithm(architecture='resnet18')


def test_unknown_algorithm_argument_is_named():
    with pytest.raises(TypeError,
                       match=r"unknown argument\(s\) 'teacher'\. Valid arguments: architecture"):
        MODELS.build(dict(type='BaseAlgorithm', architecture=nn.Linear(1, 1), teacher=1))

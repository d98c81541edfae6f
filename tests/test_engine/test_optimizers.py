"""SeparateOptimWrapperConstructor builds one optimizer per named submodule."""
import pytest
import torch
from mmengine.optim import OptimWrapperDict

from mmrazor.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

from ..kd_helpers import FITNETS_CONFIG, kd_model_cfg


def _constructor(**cfg):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='SeparateOptimWrapperConstructor', optim_wrapper_cfg=cfg))


def test_one_optimizer_per_submodule():
    algo = MODELS.build(kd_model_cfg(FITNETS_CONFIG))
    wrappers = _constructor(
        architecture=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        **{'distiller.connectors': dict(optimizer=dict(type='Adam', lr=1e-3))})(algo)
    assert isinstance(wrappers, OptimWrapperDict)
    sgd = wrappers['architecture'].optimizer
    adam = wrappers['distiller.connectors'].optimizer
    assert isinstance(sgd, torch.optim.SGD) and isinstance(adam, torch.optim.Adam)
    sgd_params = {id(p) for g in sgd.param_groups for p in g['params']}
    assert sgd_params == {id(p) for p in algo.architecture.parameters()}
    assert {id(p) for g in adam.param_groups for p in g['params']} == \
        {id(p) for p in algo.distiller.connectors.parameters()}


def test_unknown_submodule_is_named():
    algo = MODELS.build(kd_model_cfg())
    with pytest.raises(KeyError, match='generator'):
        _constructor(generator=dict(optimizer=dict(type='SGD', lr=0.1)))(algo)


def test_config_without_optimizer():
    algo = MODELS.build(kd_model_cfg())
    with pytest.raises(KeyError, match='must be a dict with an "optimizer"'):
        _constructor(architecture=dict(lr=0.1))(algo)

"""SeparateOptimWrapperConstructor builds one optimizer per named submodule."""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, OptimWrapperDict, build_optim_wrapper

from mmrazor.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

from ..conftest import REPO_ROOT
from ..kd_helpers import FITNETS_CONFIG, KD_CONFIG, kd_model_cfg

DAFL_CONFIG = osp.join(REPO_ROOT, 'configs/distill/mmcls/dafl/'
                       'dafl_logits_resnet34_resnet18_8xb256_cifar10.py')


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


def test_top_level_wrapper_settings_apply_to_every_submodule():
    algo = MODELS.build(kd_model_cfg(FITNETS_CONFIG))
    wrappers = _constructor(
        type='OptimWrapper', accumulative_counts=2, clip_grad=dict(max_norm=1.0),
        architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
        **{'distiller.connectors': dict(optimizer=dict(type='SGD', lr=0.1),
                                        accumulative_counts=3)})(algo)
    assert set(wrappers.keys()) == {'architecture', 'distiller.connectors'}
    assert wrappers['architecture']._accumulative_counts == 2
    assert wrappers['distiller.connectors']._accumulative_counts == 3  # its own wins
    assert all(w.clip_grad_kwargs == dict(max_norm=1.0) for w in wrappers.values())


def test_a_submodule_with_its_own_wrapper_type_keeps_it():
    algo = MODELS.build(kd_model_cfg())
    wrappers = _constructor(type='AmpOptimWrapper', loss_scale='dynamic', architecture=dict(
        type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))(algo)
    assert type(wrappers['architecture']) is OptimWrapper


def _train_tool():
    spec = importlib.util.spec_from_file_location('train_tool',
                                                  osp.join(REPO_ROOT, 'tools/train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _amp_cfg(config: str) -> Config:
    args = argparse.Namespace(amp=True, cfg_options=None, work_dir='work_dirs/amp',
                              resume=None, auto_scale_lr=False, launcher='none')
    return _train_tool().merge_args(Config.fromfile(config), args)


def test_amp_flag_makes_every_separate_sub_wrapper_amp():
    cfg = _amp_cfg(DAFL_CONFIG)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=cfg.optim_wrapper.constructor, optim_wrapper_cfg={
            k: v for k, v in cfg.optim_wrapper.items() if k != 'constructor'}))
    assert constructor.shared_cfg == dict(type='AmpOptimWrapper', loss_scale='dynamic')
    assert set(constructor.optim_wrapper_cfg) == {'architecture', 'generator'}


@pytest.mark.skipif(not torch.cuda.is_available(), reason='AmpOptimWrapper needs a GPU')
def test_amp_flag_builds_an_amp_wrapper_per_submodule():
    cfg = _amp_cfg(DAFL_CONFIG)
    for teacher in cfg.model.teachers.values():
        teacher.pop('ckpt_path', None)  # a local download
    model = MODELS.build(cfg.model)
    wrappers = build_optim_wrapper(model, cfg.optim_wrapper)
    assert {k: type(w).__name__ for k, w in wrappers.items()} == {
        'architecture': 'AmpOptimWrapper', 'generator': 'AmpOptimWrapper'}


def test_amp_flag_rejects_a_custom_wrapper_type():
    cfg = Config.fromfile(KD_CONFIG)
    cfg.optim_wrapper.type = 'MyOptimWrapper'
    args = argparse.Namespace(amp=True, cfg_options=None, work_dir='work_dirs/amp',
                              resume=None, auto_scale_lr=False, launcher='none')
    with pytest.raises(ValueError, match="custom type 'MyOptimWrapper'; valid types"):
        _train_tool().merge_args(cfg, args)


def test_unknown_shared_wrapper_type_is_named():
    with pytest.raises(KeyError, match="optim wrapper type 'AmpWrapper' is not registered"):
        _constructor(type='AmpWrapper', architecture=dict(optimizer=dict(type='SGD')))

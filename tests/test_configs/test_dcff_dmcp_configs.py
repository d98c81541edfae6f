"""The DCFF and DMCP configs under configs/pruning: each loads; the DCFF configs build
their algorithm with every target unit present (a classification one trains a step and
prunes to the targets); the compact/subnet configs build static models of the widths
their JSON holds (DMCP's at their FLOPs targets); the DMCP supernets train a step with
their separate optimizers. Inputs are small where the size does not matter (the unit
names and widths do not depend on it)."""
import glob
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.models.wrappers import AlgorithmDDP
from mmrazor.registry import MODEL_WRAPPERS, MODELS

from ..conftest import REPO_ROOT

PRUNING = osp.join(REPO_ROOT, 'configs', 'pruning')
CONFIGS = sorted(glob.glob(osp.join(PRUNING, 'mm*', 'dcff', '*.py')) +
                 glob.glob(osp.join(PRUNING, 'mmcls', 'dmcp', '*.py')))
SMALL = (1, 3, 64, 64)


def _id(path: str) -> str:
    return osp.relpath(path, PRUNING)


def _build(model_cfg: dict):
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(model_cfg)


def _batch(n: int = 2) -> dict:
    generator = torch.Generator().manual_seed(0)
    return dict(inputs=[torch.randint(0, 256, SMALL[1:], dtype=torch.uint8,
                                      generator=generator) for _ in range(n)],
                data_samples=[DataSample().set_gt_label(i) for i in range(n)])


def _small_parse(cfg: Config, key: str) -> None:
    parse = cfg.model[key].parse_cfg
    if parse.get('type') == 'ChannelAnalyzer':
        parse.demo_input = SMALL


@pytest.mark.parametrize('path', CONFIGS, ids=_id)
def test_config_loads(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type in ('DCFF', 'DMCP', 'sub_model')
    if cfg.model.type == 'sub_model':
        assert osp.isfile(cfg.model.fix_subnet), cfg.model.fix_subnet


DCFF = [p for p in CONFIGS if osp.basename(p).startswith('dcff_')
        and 'compact' not in p]


@pytest.mark.parametrize('path', DCFF, ids=_id)
def test_dcff_config_builds_with_every_target_unit(path):
    cfg = Config.fromfile(path)
    _small_parse(cfg, 'mutator_cfg')
    cfg.model.prune_times = 1  # outside a Runner, the schedule needs its length
    algorithm = _build(cfg.model)  # unknown target units would raise here
    targets = cfg.model.target_pruning_ratio
    assert len(targets) == 36
    assert set(targets) <= {u.name for u in algorithm.mutator.mutable_units}
    assert cfg.val_cfg.type == 'mmrazor.ItePruneValLoop'
    if 'mmcls' not in path:
        return
    wrapper = build_optim_wrapper(algorithm, cfg.optim_wrapper)
    algorithm.train_step(_batch(), wrapper)  # outside a Runner: one step, at target
    units = {u.name: u for u in algorithm.mutator.mutable_units}
    for name, ratio in targets.items():
        assert units[name].current_mask.sum() == units[name].to_number(ratio), name


@pytest.mark.parametrize('path', [p for p in CONFIGS if 'compact' in p], ids=_id)
def test_dcff_compact_config_builds_the_pruned_static_model(path):
    cfg = Config.fromfile(path)
    model = _build(cfg.model)
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    with open(cfg.model.fix_subnet) as f:
        units = json.load(f)['channel_unit_cfg']['units']
    # 0.65 of 64 channels and 0.9 of layer2's 512-channel stream, as in the targets
    assert model.backbone.layer1[0].conv1.out_channels == 42 == round(
        units['backbone.layer1.0.conv1_(0, 64)_64']['choice'] * 64)
    assert model.backbone.layer2[0].conv3.out_channels == 461
    if 'mmcls' in path:
        out = model.eval()(torch.randn(SMALL), mode='tensor')
        assert out.shape == (1, 1000)


@pytest.mark.parametrize('arch', ['mbv2', 'resnet50'])
def test_dmcp_supernet_config_trains_a_step_with_both_optimizers(arch):
    cfg = Config.fromfile(osp.join(PRUNING, 'mmcls', 'dmcp',
                                   f'dmcp_{arch}_supernet_32xb64.py'))
    _small_parse(cfg, 'mutator_cfg')
    cfg.model.arch_start_train = 0  # an architecture step too
    algorithm = _build(cfg.model)
    assert MODEL_WRAPPERS.get(cfg.model_wrapper_cfg.type.split('.')[-1]) is AlgorithmDDP
    assert cfg.custom_hooks[0].type == 'mmrazor.DMCPSubnetHook'
    with DefaultScope.overwrite_default_scope('mmrazor'):
        wrapper = build_optim_wrapper(algorithm, cfg.optim_wrapper)
    assert isinstance(wrapper, OptimWrapperDict)
    params = [u.arch_param.detach().clone() for u in algorithm.mutator.mutable_units]
    log_vars = algorithm.train_step(_batch(), wrapper)
    assert {'0_max.loss', '1_min.loss_kl', 'arch.flops_loss'} <= set(log_vars)
    assert any(not torch.equal(u.arch_param, p)
               for u, p in zip(algorithm.mutator.mutable_units, params))


@pytest.mark.parametrize('arch, target', [('mbv2', 100), ('resnet50', 2000)])
def test_dmcp_subnet_config_builds_a_static_model_at_its_flops(arch, target):
    cfg = Config.fromfile(osp.join(PRUNING, 'mmcls', 'dmcp',
                                   f'dmcp_{arch}_subnet_32xb64.py'))
    model = _build(cfg.model)
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    flops = get_model_flops_params(model, input_shape=(1, 3, 224, 224))[0]
    assert flops == pytest.approx(target, rel=0.02)

"""The AutoSlim retrain configs (configs/nas/mmcls/autoslim: the slimmable network and
its 220M/320M/530M FLOPs subnets) as MMRazor ships them: they parse their units with
MMRazor's ``BackwardTracer`` name and read MBV2_slimmable_config.json, whose
``head.fc`` unit (full width in every subnet) the model lacks. Each trains a step in a
real Runner on a few Fashion-MNIST images (traced at 28x28; widths do not depend on
the input size); each subnet has the widths the JSON gives it."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.models.architectures.dynamic_ops import DynamicMixin, SwitchableBatchNorm2d
from mmrazor.models.task_modules.tracer import ChannelAnalyzer
from mmrazor.registry import MODELS, TASK_UTILS

from ..conftest import REPO_ROOT
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401
from .test_nas_search_subnet_configs import fm_loader

AUTOSLIM = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'autoslim')
SLIMMABLE = osp.join(AUTOSLIM, 'autoslim_mbv2_1.5x_slimmable_subnet_8xb256_in1k.py')
SUBNETS = {i: osp.join(AUTOSLIM, f'autoslim_mbv2_1.5x_subnet_8xb256_in1k_flops-{f}.py')
           for i, f in enumerate(('220M', '320M', '530M'))}
UNITS_JSON = osp.join(AUTOSLIM, 'MBV2_slimmable_config.json')
HEAD_UNIT = 'head.fc_(0, 1000)_1000'
TINY_SHAPE = (1, 3, 28, 28)


def _units() -> dict:
    with open(UNITS_JSON) as f:
        return json.load(f)


def _shrunk(path: str, tmp_path, data_root: str) -> Config:
    """The config on 4 Fashion-MNIST images: one train step of batch 4, one val."""
    cfg = Config.fromfile(path)
    cfg.model.mutator.parse_cfg.loss_calculator.input_shape = TINY_SHAPE
    # grey Fashion-MNIST to three channels (mmengine's BGR->RGB needs three)
    cfg.model.data_preprocessor = dict(type='mmpretrain.ClsDataPreprocessor',
                                       mean=cfg.model.data_preprocessor.mean,
                                       std=cfg.model.data_preprocessor.std)
    cfg.train_dataloader = fm_loader(data_root, 4)
    cfg.val_dataloader = fm_loader(data_root, 4)
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.work_dir, cfg.randomness = str(tmp_path), dict(seed=0)
    return cfg


def test_configs_keep_mmrazors_settings():
    cfg = Config.fromfile(SLIMMABLE)
    mutator = cfg.model.mutator
    assert (cfg.model.type, mutator.type, mutator.channel_unit_cfg.type) == (
        'SlimmableNetwork', 'SlimmableChannelMutator', 'SlimmableChannelUnit')
    assert mutator.parse_cfg == dict(type='BackwardTracer',
                                     loss_calculator=dict(type='ImageClassifierPseudoLoss'))
    assert mutator.channel_unit_cfg.units == UNITS_JSON
    assert 'deploy_index' not in cfg.model and cfg.optim_wrapper.accumulative_counts == 3
    assert (cfg.model_wrapper_cfg.type, cfg.val_cfg.type) == (
        'mmrazor.SlimmableNetworkDDP', 'mmrazor.SlimmableValLoop')
    # the Pillow settings of imagenet_bs2048_autoslim_pil.py, at 256 images per GPU
    assert cfg.train_dataloader.batch_size == 256
    assert cfg.train_dataloader.dataset.pipeline[1].backend == 'pillow'
    assert cfg.val_dataloader.dataset.pipeline[1].backend == 'pillow'
    for index, path in SUBNETS.items():
        assert Config.fromfile(path).model.deploy_index == index


def test_slimmable_config_trains_all_three_subnets_in_a_runner(tmp_path,
                                                               fashion_mnist_root):
    runner = Runner.from_cfg(_shrunk(SLIMMABLE, tmp_path, fashion_mnist_root))
    runner.train()
    model = runner.model
    units = _units()
    # every unit of the JSON but the full-width head (skipped) is a unit of the model
    assert {u.name for u in model.mutator.mutable_units} == set(units) - {HEAD_UNIT}
    for index, subnet in enumerate(model.mutator.subnets):
        assert subnet == {name: units[name]['init_args']['candidate_choices'][index]
                          for name in subnet}
    # each width's own BN statistics were updated once per subnet of that width:
    # all three subnets ran forward
    conv1_bn = model.architecture.backbone.conv1.bn  # widths 8, 8, 32
    assert isinstance(conv1_bn, SwitchableBatchNorm2d)
    assert {k: int(bn.num_batches_tracked) for k, bn in conv1_bn.candidate_bn.items()} == {
        '8': 2, '32': 1}
    bns = [m for m in model.modules() if isinstance(m, SwitchableBatchNorm2d)]
    assert all(int(bn.num_batches_tracked) >= 1 for m in bns for bn in m.candidate_bn.values())
    assert runner.optim_wrapper.optimizer.state  # one optimizer step
    scalars = runner.message_hub.log_scalars
    assert {f'val/subnet_{i}.accuracy/top1' for i in range(3)} <= set(scalars)
    assert {f'train/subnet_{i}.loss' for i in range(3)} <= set(scalars)


@pytest.mark.parametrize('index', sorted(SUBNETS), ids=lambda i: osp.basename(SUBNETS[i]))
def test_subnet_config_trains_the_static_subnet_of_its_json_widths(index, tmp_path,
                                                                   fashion_mnist_root):
    runner = Runner.from_cfg(_shrunk(SUBNETS[index], tmp_path, fashion_mnist_root))
    runner.train()
    model = runner.model
    assert model.is_deployed and model.subnets == []
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    for name, cfg in _units().items():
        layer = name.split('_(')[0]  # the unit's first output layer
        module = model.architecture.get_submodule(layer)
        width = module.out_features if layer.startswith('head') else module.out_channels
        assert width == cfg['init_args']['candidate_choices'][index], name
    assert runner.optim_wrapper.optimizer.state  # one optimizer step
    with torch.no_grad():
        assert model.architecture(torch.rand(TINY_SHAPE), mode='tensor').shape == (1, 1000)


@pytest.mark.parametrize('mode, widths, skipped', [
    ('ratio', [1.0, 1.0, 1.0], True),  # full width as ratios
    ('number', [500, 1000, 1000], False),
    ('ratio', [0.5, 1.0, 1.0], False),
])
def test_an_unknown_unit_is_skipped_only_if_it_prunes_nothing(mode, widths, skipped,
                                                              tmp_path):
    units = _units()
    units[HEAD_UNIT]['init_args'].update(choice_mode=mode, candidate_choices=widths)
    units[HEAD_UNIT]['choice'] = widths[-1]
    path = tmp_path / 'units.json'
    path.write_text(json.dumps(units))
    cfg = Config.fromfile(SLIMMABLE)
    cfg.model.mutator.parse_cfg.loss_calculator.input_shape = TINY_SHAPE
    cfg.model.mutator.channel_unit_cfg.units = str(path)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        if skipped:
            assert MODELS.build(cfg.model).num_subnet == 3
            return
        with pytest.raises(KeyError, match=r"unknown unit names 'head\.fc_\(0, 1000\)_1000'"):
            MODELS.build(cfg.model)


def test_backward_tracer_name_builds_the_channel_analyzer():
    analyzer = TASK_UTILS.build(dict(
        type='mmrazor.BackwardTracer',
        loss_calculator=dict(type='ImageClassifierPseudoLoss', input_shape=TINY_SHAPE)))
    assert type(analyzer) is ChannelAnalyzer
    assert (analyzer.demo_input, analyzer.tracer_type) == (TINY_SHAPE, 'BackwardTracer')
    default = TASK_UTILS.build(dict(type='mmrazor.BackwardTracer'))
    assert default.demo_input == (1, 3, 224, 224)
    with pytest.raises(TypeError, match="pseudo-loss config such as dict"):
        TASK_UTILS.build(dict(type='mmrazor.BackwardTracer',
                              loss_calculator=dict(type='CrossEntropyLoss')))
    with pytest.raises(KeyError, match=r"unknown loss_calculator keys \['head'\]; valid"):
        TASK_UTILS.build(dict(type='mmrazor.BackwardTracer', loss_calculator=dict(
            type='ImageClassifierPseudoLoss', head='fc')))

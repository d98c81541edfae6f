"""The Group Fisher configs: MMRazor 1.x's (ResNet-50, MobileNetV2, RetinaNet) build
and prune a channel after a real training step, their fine-tune configs turn a pruned
checkpoint into the static pruned model and their deploy configs build the published
pruned structures; the templates work once filled in; the Fashion-MNIST pipeline runs
prune -> fine-tune -> deploy in real Runners, the deployed model scoring exactly what
the fine-tuned one scores.

Pretrained checkpoints are not loaded (they are downloads); inputs are small
(classification 64x64, detection 128x128).
"""
import glob
import json
import os.path as osp
import re
from typing import Dict

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmengine.structures import InstanceData

from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.models.task_modules.estimators import count_model
from mmrazor.registry import HOOKS, MODEL_WRAPPERS
from mmrazor.utils import build_model_from_config

from ..conftest import REPO_ROOT

PRUNING = osp.join(REPO_ROOT, 'configs', 'pruning')
FAMILIES = {
    'resnet50': ('mmcls/group_fisher/resnet50', 'resnet50_8xb32_in1k'),
    'mobilenet': ('mmcls/group_fisher/mobilenet', 'mobilenet-v2_8xb32_in1k'),
    'retinanet': ('mmdet/group_fisher/retinanet', 'retinanet_r50_fpn_1x_coco'),
}
FASHION = osp.join(PRUNING, 'fashion_mnist', 'group_fisher')
FASHION_NAME = 'resnet14-w32_1xb128_fashion-mnist'


def config_path(family: str, norm: str, stage: str) -> str:
    folder, name = FAMILIES[family]
    return osp.join(PRUNING, folder, f'group_fisher_{norm}_{stage}_{name}.py')


def test_every_mmrazor_config_is_here():
    found = sorted(osp.relpath(p, PRUNING) for folder, _ in FAMILIES.values()
                   for p in glob.glob(osp.join(PRUNING, folder, '*.py')))
    assert found == sorted(osp.relpath(config_path(f, n, s), PRUNING) for f in FAMILIES
                           for n in ('act', 'flops') for s in ('prune', 'finetune', 'deploy'))


def cls_batch(size: int = 64) -> Dict:
    from mmpretrain.structures import DataSample
    gen = torch.Generator().manual_seed(0)
    return dict(inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                                      generator=gen) for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in (1, 4)])


def det_batch(size: int = 128) -> Dict:
    from mmdet.structures import DetDataSample
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(2):
        sample = DetDataSample(metainfo=dict(
            img_id=i, ori_shape=(size, size), img_shape=(size, size),
            pad_shape=(size, size), batch_input_shape=(size, size), scale_factor=(1., 1.)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 10., 60., 70.], [40., 30., 120., 110.]]) + i,
            labels=torch.tensor([0, 3 + i]))
        samples.append(sample)
    return dict(inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8,
                                      generator=gen) for _ in range(2)],
                data_samples=samples)


def batch(family: str) -> Dict:
    return det_batch() if family == 'retinanet' else cls_batch()


def widths(algorithm) -> Dict[str, int]:
    return {u.name: u.mutable_channel.activated_channels
            for u in algorithm.mutator.mutable_units}


@pytest.fixture(scope='module', params=list(FAMILIES))
def pruned(request, tmp_path_factory):
    """Each family's act pruning config after one training step and three pruned
    channels, saved as a checkpoint."""
    family = request.param
    cfg = Config.fromfile(config_path(family, 'act', 'prune'))
    algorithm = build_model_from_config(cfg)
    before = {k: v.detach().clone() for k, v in algorithm.architecture.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(algorithm.parameters(), lr=1e-3))
    log_vars = algorithm.train_step(batch(family), wrapper)
    changed = [k for k, v in algorithm.architecture.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])]
    full = widths(algorithm)
    names = [algorithm.mutator.try_prune() for _ in range(3)]
    path = str(tmp_path_factory.mktemp(family) / 'pruned.pth')
    torch.save(dict(state_dict=algorithm.state_dict()), path)
    return family, cfg, algorithm, log_vars, changed, full, names, path


def test_prune_config_trains_and_prunes(pruned):
    family, cfg, algorithm, log_vars, changed, full, names, _ = pruned
    assert all(torch.isfinite(v) for v in log_vars.values())
    assert changed  # the step trained the architecture
    assert all(names)  # a channel pruned each time
    pruned_widths = widths(algorithm)
    assert sum(full.values()) - sum(pruned_widths.values()) == 3
    assert {u.normalization_type for u in algorithm.mutator.mutable_units} == {'act'}
    assert MODEL_WRAPPERS.get(cfg.model_wrapper_cfg.type.split('.')[-1]) is not None
    resource_hook = HOOKS.build(cfg.custom_hooks[-1])
    assert resource_hook.save_ckpt_thr == [cfg.target_flop_ratio]
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(cfg._original_lr_ * cfg.lr_ratio)


@pytest.mark.parametrize('family', list(FAMILIES))
def test_flops_prune_config_only_changes_the_normalization(family):
    act = Config.fromfile(config_path(family, 'act', 'prune'))
    flops = Config.fromfile(config_path(family, 'flops', 'prune'))
    assert flops.model.mutator.channel_unit_cfg.default_args.normalization_type == 'flops'
    flops.model.mutator.channel_unit_cfg.default_args.normalization_type = 'act'
    assert flops.model.to_dict() == act.model.to_dict()


@pytest.mark.parametrize('norm', ['act', 'flops'])
def test_finetune_config_builds_the_static_pruned_model(pruned, norm):
    family, _, algorithm, _, _, _, _, path = pruned
    cfg = Config.fromfile(config_path(family, norm, 'finetune'))
    cfg.model.algorithm.init_cfg.checkpoint = path
    model = build_model_from_config(cfg)
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    assert model.pruning_structure == widths(algorithm)
    assert cfg.model_wrapper_cfg is None
    hook_types = [h['type'] for h in cfg.custom_hooks]
    assert not any('Pruning' in t or 'ResourceInfo' in t for t in hook_types)
    algorithm.eval()
    model.eval()
    data = algorithm.data_preprocessor(batch(family), False)
    with torch.no_grad():
        expected = algorithm(data['inputs'], mode='tensor')
        output = model(data['inputs'], mode='tensor')
    if isinstance(output, (tuple, list)):  # detectors: per-level outputs
        output, expected = output[0][0], expected[0][0]
    assert (output - expected).abs().max() <= 1e-4


@pytest.mark.parametrize('family', list(FAMILIES))
@pytest.mark.parametrize('norm', ['act', 'flops'])
def test_deploy_config_builds_the_published_structure(family, norm):
    cfg = Config.fromfile(config_path(family, norm, 'deploy'))
    model = build_model_from_config(cfg)
    assert not any(isinstance(m, DynamicMixin) for m in model.modules())
    name, width = next(iter(cfg.fix_subnet.items()))  # the stem conv
    layer = model.get_submodule(name.split('_(')[0])
    assert layer.out_channels == -(-width // cfg.divisor) * cfg.divisor
    original = build_model_from_config(_base_config(cfg))
    shape = (1, 3, 128, 128) if family == 'retinanet' else (1, 3, 64, 64)
    assert count_model(model, shape).total_macs < count_model(original, shape).total_macs


def _base_config(cfg: Config) -> Config:
    """The config of the unpruned model the deploy config starts from."""
    return Config(dict(model=cfg.model.architecture,
                       default_scope=cfg.get('default_scope', 'mmrazor')))


# ---- the templates, filled in --------------------------------------------------------

VANILLA = osp.join(REPO_ROOT, 'configs', 'vanilla', 'fashion_mnist',
                   f'{FASHION_NAME}.py')


def fill(template: str, tmp_path, **values) -> str:
    text = open(osp.join(PRUNING, 'base', 'group_fisher', template)).read()
    for key, value in values.items():
        text, count = re.subn(rf'^{key} = .*$', f'{key} = {value!r}', text, count=1,
                              flags=re.M)
        assert count == 1, key
    path = tmp_path / template
    path.write_text(text)
    return str(path)


def test_templates_filled_in_prune_finetune_and_deploy(tmp_path):
    prune_path = fill('group_fisher_prune_template.py', tmp_path, _base_=VANILLA,
                      pretrained_path='unused.pth', input_shape=(1, 1, 28, 28))
    # a 1-channel 28x28 model: trace it on its own input
    child = tmp_path / 'prune.py'
    child.write_text(f'_base_ = {prune_path!r}\nmodel = dict(mutator=dict(parse_cfg=dict('
                     'demo_input=(1, 1, 28, 28))))\n')
    algorithm = build_model_from_config(Config.fromfile(str(child)))
    assert algorithm.interval == 10
    assert {u.normalization_type for u in algorithm.mutator.mutable_units} == {'act'}
    for _ in range(2):
        algorithm.mutator.try_prune()
    checkpoint = str(tmp_path / 'pruned.pth')
    torch.save(dict(state_dict=algorithm.state_dict()), checkpoint)

    # the fine-tune template reads the prune config's values (_original_lr_, hooks)
    finetune = Config.fromfile(fill('group_fisher_finetune_template.py', tmp_path,
                                    _base_=str(child),
                                    pruned_path=checkpoint))
    model = build_model_from_config(finetune)
    assert model.pruning_structure == widths(algorithm)
    assert finetune.optim_wrapper.optimizer.lr == 0.1  # the original lr again
    assert finetune.custom_hooks == []

    deploy = Config.fromfile(fill('group_fisher_deploy_template.py', tmp_path,
                                  _base_=VANILLA, fix_subnet=model.pruning_structure))
    deploy.model.parse_cfg = dict(_scope_='mmrazor', type='ChannelAnalyzer',
                                  demo_input=(1, 1, 28, 28), tracer_type='FxTracer')
    deployed = build_model_from_config(deploy)
    deployed.load_state_dict(model.state_dict())  # padded to multiples of 8
    model.eval()
    deployed.eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert (deployed(x, mode='tensor') - model(x, mode='tensor')).abs().max() <= 1e-5


# ---- Fashion-MNIST: prune -> fine-tune -> deploy in real Runners ----------------------

def fashion_cfg(stage: str, data_root: str, work_dir: str) -> Config:
    cfg = Config.fromfile(osp.join(
        FASHION, f'group_fisher_flops_{stage}_{FASHION_NAME}.py'))
    cfg.work_dir = work_dir
    cfg.experiment_name = f'gf_{stage}_{osp.basename(osp.dirname(work_dir))}'
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.data_root = data_root
        loader.dataset.indices = 64
        loader.num_workers, loader.persistent_workers, loader.batch_size = 0, False, 16
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def test_fashion_mnist_prune_finetune_deploy(tmp_path, fashion_mnist_root):
    # prune: 2 epochs of 4 iterations, a channel every 2, stop below 99.9% FLOPs
    prune = fashion_cfg('prune', fashion_mnist_root, str(tmp_path / 'prune'))
    prune.model.architecture.init_cfg = None  # no trained teacher needed here
    prune.model.interval = 2
    prune.custom_hooks[-1].update(interval=2, save_ckpt_thr=[0.999])
    prune.train_cfg.max_epochs = 2
    runner = Runner.from_cfg(prune)
    runner.train()
    algorithm = runner.model
    pruned_widths = widths(algorithm)
    full = {name: int(name.split('_')[-1]) for name in pruned_widths}
    assert sum(full.values()) - sum(pruned_widths.values()) >= 2
    checkpoint = str(tmp_path / 'prune' / 'flops_1.00.pth')
    assert osp.isfile(checkpoint)

    finetune = fashion_cfg('finetune', fashion_mnist_root, str(tmp_path / 'finetune'))
    finetune.pruned_path = checkpoint
    finetune.model.algorithm.init_cfg.checkpoint = checkpoint
    finetune.model.algorithm.architecture.init_cfg = None
    finetune.train_cfg.max_epochs = 1
    runner = Runner.from_cfg(finetune)
    runner.train()
    structure = json.load(open(tmp_path / 'finetune' / 'fix_subnet.json'))
    assert structure == runner.model.pruning_structure
    accuracy = runner.val()['accuracy/top1']

    # deploy: the plain config + widths JSON + a weights-only state dict
    state = torch.load(tmp_path / 'finetune' / 'epoch_1.pth', weights_only=False)
    torch.save(state['state_dict'], tmp_path / 'weights.pth')
    deploy = fashion_cfg('deploy', fashion_mnist_root, str(tmp_path / 'deploy'))
    deploy.model.fix_subnet = str(tmp_path / 'finetune' / 'fix_subnet.json')
    deploy.load_from = str(tmp_path / 'weights.pth')
    deployed = Runner.from_cfg(deploy)
    assert deployed.test()['accuracy/top1'] == accuracy
    static = build_model_from_config(deploy)
    static.load_state_dict(torch.load(tmp_path / 'weights.pth', weights_only=True))
    x = torch.randn(4, 1, 28, 28)
    finetuned = runner.model.eval()
    with torch.no_grad():
        assert (static.eval()(x, mode='tensor')
                - finetuned(x, mode='tensor')).abs().max() <= 1e-5
    assert isinstance(static.backbone.conv1, nn.Conv2d)

"""The DARTS and DSNAS configs (configs/nas/mmcls/{darts,dsnas}) in real Runners, their
CIFAR-10 / ImageNet loaders swapped for a few Fashion-MNIST images (the grey channel
broadcasts to three where the config normalises three; the DARTS supernet, which does
not normalise, is built with one input channel) and the DARTS networks narrowed: the
supernet configs search an epoch and dump a subnet YAML that the subnet configs load;
the DARTS subnet config builds MMRazor's network of the paper's cell (3.83M parameters,
0.55 GFLOPs) and trains with its auxiliary loss; the DSNAS subnet config builds the
fixed subnet of its YAML."""
import os.path as osp

import torch
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.models import DSNAS, Darts
from mmrazor.models.mutables import BaseMutable, DiffChoiceRoute, OneHotMutableOP
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS

from ..conftest import REPO_ROOT

# an autouse fixture, active here once imported
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

NAS = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls')
DARTS_SUPERNET = osp.join(NAS, 'darts', 'darts_supernet_unroll_1xb96_cifar10.py')
DARTS_SUBNET = osp.join(NAS, 'darts', 'darts_subnet_1xb96_cifar10_2.0.py')
DSNAS_SUPERNET = osp.join(NAS, 'dsnas', 'dsnas_supernet_8xb128_in1k.py')
DSNAS_SUBNET = osp.join(NAS, 'dsnas', 'dsnas_subnet_8xb128_in1k.py')


def fashion_mnist(loader: dict, root: str, pipeline: list) -> None:
    """Two Fashion-MNIST images through ``pipeline`` instead of the config's dataset."""
    loader.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader.dataset = dict(type='mmrazor.OfflineFashionMNIST', data_root=root, split='test',
                          indices=2, pipeline=pipeline)


def one_epoch(cfg: Config, work_dir) -> Runner:
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = osp.basename(str(work_dir))
    cfg.randomness = dict(seed=0)
    cfg.default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                             save_last=False))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def build(model_cfg) -> torch.nn.Module:
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # the configs' default scope
        return MODELS.build(model_cfg)


def test_darts_supernet_config_searches_and_dumps_a_loadable_subnet(
        tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(DARTS_SUPERNET)
    assert cfg.model.unroll is True and cfg.model_wrapper_cfg.type == 'mmrazor.DartsDDP'
    optimizer = cfg.optim_wrapper.mutator.optimizer.to_dict()
    optimizer.pop('_scope_')  # MMEngine scopes what a mmrazor:: base config builds
    assert optimizer == dict(type='mmcls.Adam', lr=3e-4, weight_decay=1e-3)
    assert cfg.train_cfg.type == 'mmrazor.DartsEpochBasedTrainLoop'
    # narrow: 3 cells of 2 channels per node; one grey input channel
    cfg.model.architecture.backbone.update(in_channels=1, base_channels=2, num_layers=3,
                                           out_indices=(2, ))
    cfg.model.architecture.head.in_channels = 2 * 4 * 4
    for loader, pipeline in ((cfg.train_dataloader, cfg.train_pipeline),
                             (cfg.train_cfg.mutator_dataloader, cfg.train_pipeline),
                             (cfg.val_dataloader, cfg.test_pipeline)):
        fashion_mnist(loader, fashion_mnist_root, pipeline)
    runner = one_epoch(cfg, tmp_path / 'darts_supernet')
    assert isinstance(runner.model, Darts) and runner.model.unroll
    assert {'train/mutator.loss', 'train/supernet.loss',
            'val/accuracy/top1'} <= set(runner.message_hub.log_scalars)

    dumped = tmp_path / 'darts_supernet' / 'subnet_epoch_1.yaml'
    subnet = yaml.safe_load(dumped.read_text())
    assert {'normal_n2', 'normal_n5_p4', 'reduce_n3_p1'} <= set(subnet)
    supernet = dict(cfg.model.architecture.to_dict(), _scope_='mmpretrain')
    model = build(dict(type='mmrazor.sub_model', cfg=supernet, fix_subnet=str(dumped)))
    routes = {m.alias: m.current_choice for m in model.modules()
              if isinstance(m, DiffChoiceRoute)}
    assert routes == {alias: subnet[alias]['chosen'] for alias in routes}


def test_darts_subnet_config_builds_mmrazors_network_and_trains_with_aux_loss(
        tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(DARTS_SUBNET)
    cfg.model.init_cfg = None  # no download
    model = build(cfg.model)
    with open(osp.join(NAS, 'darts', 'DARTS_SUBNET_CIFAR_PAPER_ALIAS.yaml')) as f:
        subnet = yaml.safe_load(f)
    node = model.backbone.cells[0].nodes[3].route
    assert node.current_choice == subnet['normal_n5']['chosen'] == ['normal_n5_p2',
                                                                    'normal_n5_p0']
    assert node._candidates['normal_n5_p2'].choices == ['dil_conv_3x3']
    # MMRazor's figures for this subnet: 3.83M parameters, 0.55 GFLOPs
    flops, params = get_model_flops_params(model.eval(), input_shape=(1, 3, 32, 32))
    assert (round(params, 2), round(flops / 10)) == (3.83, 55)

    cfg.model.cfg.backbone.update(base_channels=2, num_layers=5, out_indices=(4, ))
    cfg.model.cfg.head.in_channels = 2 * 4 * 4
    fashion_mnist(cfg.train_dataloader, fashion_mnist_root, cfg.train_pipeline)
    fashion_mnist(cfg.val_dataloader, fashion_mnist_root, cfg.test_pipeline)
    runner = one_epoch(cfg, tmp_path / 'darts_subnet')
    assert {'train/loss', 'train/aux_head.loss'} <= set(runner.message_hub.log_scalars)
    assert not any(isinstance(m, BaseMutable) and not m.is_fixed
                   for m in runner.model.modules())


def test_dsnas_supernet_config_searches_and_dumps_a_subnet_the_subnet_config_loads(
        tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(DSNAS_SUPERNET)
    assert (cfg.model.pretrain_epochs, cfg.model.finetune_epochs) == (15, 85)
    assert cfg.model_wrapper_cfg.type == 'mmrazor.DSNASDDP'
    cfg.model.pretrain_epochs = 0  # search from the first epoch
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        fashion_mnist(loader, fashion_mnist_root, [dict(type='mmcls.PackClsInputs')])
    runner = one_epoch(cfg, tmp_path / 'dsnas_supernet')
    assert isinstance(runner.model, DSNAS)
    assert {'train/supernet.loss', 'train/mutator.arch_loss'} <= set(
        runner.message_hub.log_scalars)
    # the architecture optimizer's schedule ran (warm-up from 0.2 of lr 0.5)
    assert 0.1 <= runner.optim_wrapper['architecture'].get_lr()['lr'][0] < 0.5

    dumped = tmp_path / 'dsnas_supernet' / 'subnet_epoch_1.yaml'
    subnet_cfg = Config.fromfile(DSNAS_SUBNET)
    assert subnet_cfg.optim_wrapper.optimizer.nesterov is True
    subnet_cfg.model.fix_subnet = str(dumped)
    model = build(subnet_cfg.model)
    chosen = {key: entry['chosen'] for key, entry in yaml.safe_load(dumped.read_text()).items()}
    assert len(chosen) == 20
    assert {name: m.choices for name, m in model.named_modules()
            if isinstance(m, OneHotMutableOP)} == {k: [v] for k, v in chosen.items()}


def test_dsnas_subnet_config_builds_the_subnet_of_its_yaml():
    cfg = Config.fromfile(DSNAS_SUBNET)
    model = build(cfg.model)
    with open(osp.join(NAS, 'dsnas', 'DSNAS_SUBNET_IMAGENET_PAPER_ALIAS.yaml')) as f:
        subnet = {key: entry['chosen'] for key, entry in yaml.safe_load(f).items()}
    assert {name: m.current_choice for name, m in model.named_modules()
            if isinstance(m, OneHotMutableOP)} == subnet
    assert all(m.is_fixed for m in model.modules() if isinstance(m, BaseMutable))
    assert model.eval()(torch.rand(1, 3, 64, 64)).shape == (1, 1000)

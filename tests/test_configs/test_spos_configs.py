"""The SPOS ShuffleNetV2 configs (configs/nas/mmcls/spos): the supernet config trains an
epoch in a real Runner (its ImageNet loaders swapped for a few Fashion-MNIST images);
the subnet config with SPOS_SUBNET.yaml builds the fixed subnet of MMRazor's size,
loads the trained supernet's checkpoint and computes what the supernet computes on
that path; subnet YAMLs naming a block the supernet lacks or a candidate it does not
have are refused with the valid names."""
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.models import SPOS
from mmrazor.models.mutables import BaseMutable, OneShotMutableOP
from mmrazor.models.task_modules.estimators import get_model_flops_params
from mmrazor.registry import MODELS

from ..conftest import REPO_ROOT

# an autouse fixture, active here once imported
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

SPOS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos')
SUPERNET = osp.join(SPOS_DIR, 'spos_shufflenet_supernet_8xb128_in1k.py')
SUBNET = osp.join(SPOS_DIR, 'spos_shufflenet_subnet_8xb128_in1k.py')
SUBNET_YAML = osp.join(SPOS_DIR, 'SPOS_SUBNET.yaml')


@pytest.fixture(scope='module')
def trained_supernet(tmp_path_factory, fashion_mnist_root):
    """One epoch of the supernet config on 4 Fashion-MNIST images (grey broadcasts to
    the three channels the config normalises): ``(runner, checkpoint path)``."""
    cfg = Config.fromfile(SUPERNET)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset = dict(type='mmrazor.OfflineFashionMNIST', data_root=fashion_mnist_root,
                              split='test', indices=4,
                              pipeline=[dict(type='mmpretrain.PackInputs')])
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(tmp_path_factory.mktemp('spos_supernet'))
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner, osp.join(cfg.work_dir, 'epoch_1.pth')


def _build(model_cfg: dict):
    with DefaultScope.overwrite_default_scope('mmrazor'):
        return MODELS.build(model_cfg)


def _subnet_cfg(**model) -> Config:
    cfg = Config.fromfile(SUBNET)
    cfg.model.update(model)
    return cfg


def test_supernet_config_trains_an_epoch_in_a_runner(trained_supernet):
    runner, checkpoint = trained_supernet
    cfg = Config.fromfile(SUPERNET)
    assert [stage[:2] for stage in cfg.nas_backbone.arch_setting] == [
        [64, 4], [160, 4], [320, 8], [640, 4]]
    assert cfg.find_unused_parameters is True
    optimizer = cfg.optim_wrapper.optimizer.to_dict()
    optimizer.pop('_scope_')  # MMEngine scopes what a mmrazor:: base config builds
    assert optimizer == dict(type='SGD', lr=0.5, momentum=0.9, weight_decay=4e-5)
    assert isinstance(runner.model, SPOS)
    groups = runner.model.mutator.search_groups
    assert len(groups) == 20 and all(g[0].num_choices == 4 for g in groups.values())
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))
    # the PolyLR schedule of the settings file ran: the rate fell from 0.5
    assert 0 < runner.optim_wrapper.get_lr()['lr'][0] < 0.5
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars
    assert osp.isfile(checkpoint)


def test_subnet_config_builds_the_fixed_subnet_with_the_supernet_weights(trained_supernet):
    runner, checkpoint = trained_supernet
    with open(SUBNET_YAML) as f:
        subnet = {key: entry['chosen'] for key, entry in yaml.safe_load(f).items()}
    cfg = _subnet_cfg()
    assert cfg.model_wrapper_cfg is None and cfg.model.init_cfg.prefix == 'architecture.'
    cfg.model.init_cfg.checkpoint = checkpoint  # no download: the supernet just trained
    model = _build(cfg.model)
    mutables = {name: m for name, m in model.named_modules() if isinstance(m, BaseMutable)}
    assert {name: m.choices for name, m in mutables.items()} == {
        name: [choice] for name, choice in subnet.items()}
    assert all(m.is_fixed for m in mutables.values())
    # MMRazor's subnet: 3.35M parameters, 0.33 GFLOPs at 224x224
    flops, params = get_model_flops_params(model, input_shape=(1, 3, 224, 224))
    assert (params, round(flops / 10)) == (3.354, 33)

    model.init_weights()
    supernet = runner.model.architecture.eval()
    for name, module in supernet.named_modules():
        if isinstance(module, OneShotMutableOP):
            module.current_choice = subnet[name]
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        expected = supernet(x, mode='tensor')
        assert (model.eval()(x, mode='tensor') - expected).abs().max() <= 1e-5


def _write(tmp_path, subnet: dict) -> str:
    path = tmp_path / 'subnet.yaml'
    path.write_text(yaml.safe_dump(subnet))
    return str(path)


def test_subnet_yaml_with_an_unknown_block_or_candidate_is_refused(tmp_path):
    with open(SUBNET_YAML) as f:
        subnet = yaml.safe_load(f)
    typo = dict(subnet)
    typo['backbone.layer.3.3'] = typo.pop('backbone.layers.3.3')
    with pytest.raises(KeyError, match=r"'backbone.layer.3.3' \(did you mean "
                                       r"\['backbone.layers.3.3'"):
        _build(_subnet_cfg(fix_subnet=_write(tmp_path, typo), init_cfg=None).model)
    subnet['backbone.layers.1.2'] = {'chosen': 'shuffle_9x9'}
    with pytest.raises(ValueError, match=r"'shuffle_9x9' for 'backbone.layers.1.2'.*"
                                         r"\['shuffle_3x3', 'shuffle_5x5', 'shuffle_7x7', "
                                         r"'shuffle_xception'\]"):
        _build(_subnet_cfg(fix_subnet=_write(tmp_path, subnet), init_cfg=None).model)

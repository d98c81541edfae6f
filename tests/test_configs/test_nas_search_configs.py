"""The SPOS search configs run their evolution search in a real Runner: MMRazor's
ImageNet one (loaders swapped for a few Fashion-MNIST images) with MMRazor's settings,
writing a best_fix_subnet.yaml that the subnet config loads; and the Fashion-MNIST
triple end to end at tiny scale: supernet -> search under its FLOPs budget -> subnet
retrained from the searched subnet's supernet weights."""
import glob
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.engine.runner.utils.search_state import load_data_pickle
from mmrazor.models.mutables import OneShotMutableOP
from mmrazor.registry import MODELS
from mmrazor.structures import Candidates

from ..conftest import REPO_ROOT

SPOS = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos')
FM = osp.join(REPO_ROOT, 'configs', 'nas', 'fashion_mnist', 'spos')
FM_NAME = 'spos_shufflenet-tiny_{}_1xb128_fashion-mnist.py'


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def fm_dataset(data_root: str, num, split: str = 'test') -> dict:
    return dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root, split=split,
                indices=num, pipeline=[dict(type='mmpretrain.PackInputs')])


def small_loaders(cfg: Config, data_root: str, num: int = 8) -> None:
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset = fm_dataset(data_root, num)


def test_mmrazor_spos_search_config_searches_under_330_mflops(tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(osp.join(SPOS, 'spos_shufflenet_search_8xb128_in1k.py'))
    loop = cfg.train_cfg
    assert (loop.type, loop.max_epochs, loop.num_candidates, loop.top_k, loop.num_mutation,
            loop.num_crossover, loop.mutate_prob, loop.score_key) == (
        'mmrazor.EvolutionSearchLoop', 20, 50, 10, 25, 25, 0.1, 'accuracy/top1')
    assert loop.constraints_range == dict(flops=(0., 330.)) and cfg.model.norm_training
    small_loaders(cfg, fashion_mnist_root, num=4)
    loop.dataloader = cfg.val_dataloader
    loop.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1, num_crossover=0)
    cfg.work_dir = str(tmp_path)
    cfg.randomness = dict(seed=0)
    runner = Runner.from_cfg(cfg)
    runner.train()
    top = Candidates(load_data_pickle(str(tmp_path / 'search_epoch_1.pkl'))[
        'top_k_candidates'])
    assert 250 < top.resources('flops')[0] <= 330  # MFLOPs at 224x224
    # the searched YAML has SPOS_SUBNET.yaml's keys: the subnet config loads it
    with open(osp.join(SPOS, 'SPOS_SUBNET.yaml')) as f1, open(tmp_path / 'best_fix_subnet.yaml') \
            as f2:
        assert set(yaml.safe_load(f1)) == set(yaml.safe_load(f2))
    subnet_cfg = Config.fromfile(osp.join(SPOS, 'spos_shufflenet_subnet_8xb128_in1k.py'))
    subnet_cfg.model.update(fix_subnet=str(tmp_path / 'best_fix_subnet.yaml'), init_cfg=None)
    with DefaultScope.overwrite_default_scope('mmrazor'):
        subnet = MODELS.build(subnet_cfg.model)
    assert all(len(m.choices) == 1 for m in subnet.modules()
               if isinstance(m, OneShotMutableOP))


def test_fashion_mnist_triple_runs_end_to_end(tmp_path, fashion_mnist_root):
    # 1. supernet: one epoch on 16 images
    cfg = Config.fromfile(osp.join(FM, FM_NAME.format('supernet')))
    assert cfg.train_dataloader.dataset.indices == 55000  # the rest is held out
    small_loaders(cfg, fashion_mnist_root, num=16)
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(tmp_path / 'supernet')
    Runner.from_cfg(cfg).train()
    supernet_ckpt = str(tmp_path / 'supernet' / 'epoch_1.pth')

    # 2. search under the config's FLOPs budget, scoring on held-out training images
    cfg = Config.fromfile(osp.join(FM, FM_NAME.format('search')))
    assert cfg.train_cfg.dataloader.dataset.indices == list(range(55000, 60000))
    budget = cfg.train_cfg.constraints_range['flops'][1]
    small_loaders(cfg, fashion_mnist_root)
    cfg.train_cfg.dataloader.dataset = fm_dataset(fashion_mnist_root, [55000 + i for i in
                                                                      range(8)], 'train')
    cfg.train_cfg.update(max_epochs=2, num_candidates=4, top_k=2, num_mutation=1,
                         num_crossover=1, calibrate_sample_num=8)
    cfg.load_from = supernet_ckpt
    cfg.work_dir = str(tmp_path / 'search')
    search = Runner.from_cfg(cfg)
    search.train()
    top = Candidates(load_data_pickle(str(tmp_path / 'search' / 'search_epoch_2.pkl'))[
        'top_k_candidates'])
    assert all(0 < flops <= budget for flops in top.resources('flops'))
    subnet_ckpt, = glob.glob(str(tmp_path / 'search' / 'subnet_*.pth'))

    # 3. the subnet config's shipped subnet (the real search's result) builds ...
    cfg = Config.fromfile(osp.join(FM, FM_NAME.format('subnet')))
    with open(osp.join(FM, 'SPOS_TINY_SUBNET.yaml')) as f:
        shipped = {k: v['chosen'] for k, v in yaml.safe_load(f).items()}
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(cfg.model)
    assert {name: m.current_choice for name, m in model.named_modules()
            if name in shipped} == shipped
    # ... and the searched one starts from the supernet's weights on its path, then trains
    small_loaders(cfg, fashion_mnist_root, num=16)
    cfg.model.update(fix_subnet=str(tmp_path / 'search' / 'best_fix_subnet.yaml'),
                     init_cfg=dict(type='Pretrained', checkpoint=subnet_ckpt,
                                   prefix='architecture.'))
    cfg.train_cfg.max_epochs = 1
    cfg.work_dir = str(tmp_path / 'subnet')
    runner = Runner.from_cfg(cfg)
    runner.model.init_weights()
    search.model.mutator.set_choices(top.subnets[0])
    x = torch.rand(2, 3, 28, 28)
    with torch.no_grad():
        expected = search.model.architecture.eval()(x, mode='tensor')
        assert (runner.model.eval()(x, mode='tensor') - expected).abs().max() <= 1e-5
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    changed = [k for k, v in runner.model.state_dict().items() if not torch.equal(v, before[k])]
    assert 'head.fc.weight' in changed
    assert not any(isinstance(m, OneShotMutableOP) and len(m.choices) > 1
                   for m in runner.model.modules())

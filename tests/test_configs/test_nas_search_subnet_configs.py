"""The AutoSlim, BigNAS and OFA search configs run their search in a real Runner with
MMRazor's settings (ImageNet swapped for a few Fashion-MNIST images, models and
budgets shrunk): AutoSlim's greedy slimming writes a FLOPS_<flops>M.yaml that
``sub_model`` rebuilds within the budget; the evolution searches of BigNAS and OFA
write a best_fix_subnet.yaml with the keys of the subnet YAMLs MMRazor ships, which
their subnet configs load."""
import glob
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmrazor.engine.runner.utils.search_state import load_data_pickle
from mmrazor.models.architectures.dynamic_ops import DynamicMixin
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.structures import Candidates

from ..conftest import REPO_ROOT
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401

NAS_DIR = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls')
AUTOSLIM = osp.join(NAS_DIR, 'autoslim', 'autoslim_mbv2_1.5x_{}_8xb256_in1k.py')
BIGNAS = osp.join(NAS_DIR, 'bignas', 'attentive_mobilenet_{}_in1k.py')
OFA = osp.join(NAS_DIR, 'onceforall', 'ofa_mobilenet_{}_in1k.py')
TINY_SHAPE = (1, 3, 28, 28)
TINY_RESIZER = dict(input_sizes=[[16, 16], [24, 24]])


def fm_loader(data_root: str, num: int) -> dict:
    return dict(batch_size=4, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root,
                             split='test', indices=num,
                             pipeline=[dict(type='mmpretrain.PackInputs')]))


def test_autoslim_search_config_slims_the_supernet_to_its_target(tmp_path,
                                                                fashion_mnist_root):
    cfg = Config.fromfile(AUTOSLIM.format('search'))
    loop = cfg.test_cfg
    assert loop.type == 'mmrazor.AutoSlimGreedySearchLoop'
    assert loop.target_flops == (500., 300., 200.) and cfg.model.norm_training
    assert cfg.train_cfg is None and cfg.val_cfg is None
    assert cfg.model.mutator.channel_unit_cfg.default_args.candidate_choices == [
        i / 12 for i in range(2, 13)]
    # shrunk: traced and measured at 28x28, 3 widths per unit, one target a step
    # below the widest subnet (MobileNetV2 x1.5 has 15.19 MFLOPs at 28x28)
    cfg.model.mutator.parse_cfg.demo_input = TINY_SHAPE
    # grey Fashion-MNIST to three channels (mmengine's BGR->RGB needs three)
    cfg.model.data_preprocessor = dict(type='mmpretrain.ClsDataPreprocessor',
                                       mean=cfg.model.data_preprocessor.mean,
                                       std=cfg.model.data_preprocessor.std)
    cfg.model.mutator.channel_unit_cfg.default_args.candidate_choices = [0.5, 0.75, 1.0]
    loop.dataloader = fm_loader(fashion_mnist_root, 4)
    loop.update(target_flops=(15., ), estimator_cfg=dict(input_shape=TINY_SHAPE))
    cfg.test_dataloader = loop.dataloader
    cfg.work_dir, cfg.randomness = str(tmp_path), dict(seed=0)
    runner = Runner.from_cfg(cfg)
    runner.test()
    search = runner.test_loop
    assert search.current_flops <= 15. < search._flops(search.max_subnet)
    saved, = glob.glob(str(tmp_path / 'FLOPS_*M.yaml'))
    assert osp.basename(saved) == f'FLOPS_{search.searched_subnet_flops[0]:.2f}M.yaml'
    assert osp.isfile(tmp_path / 'latest.pkl')
    with DefaultScope.overwrite_default_scope('mmrazor'):
        subnet = MODELS.build(dict(type='sub_model', cfg=cfg.model.architecture,
                                   fix_subnet=saved, mode='mutator'))
    flops = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator',
                                  input_shape=TINY_SHAPE)).estimate(subnet)['flops']
    assert flops == pytest.approx(search.searched_subnet_flops[0]) and flops <= 15.
    assert not any(isinstance(m, DynamicMixin) for m in subnet.modules())


@pytest.mark.parametrize('path,shipped_yaml', [
    (BIGNAS, 'ATTENTIVE_SUBNET_A0.yaml'), (OFA, 'OFA_SUBNET_NOTE8_LAT22.yaml')])
def test_bignas_ofa_search_configs_search_and_their_subnet_configs_load_the_result(
        path, shipped_yaml, tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(path.format('search_8xb128'))
    loop = cfg.train_cfg
    assert (loop.type, loop.calibrate_sample_num, loop.constraints_range, loop.score_key) == (
        'mmrazor.EvolutionSearchLoop', 4096, dict(flops=(0., 700.)), 'accuracy/top1')
    expected = (20, 50, 10, 25, 25) if path == BIGNAS else (1, 2, 1, 1, 1)
    assert (loop.max_epochs, loop.num_candidates, loop.top_k, loop.num_mutation,
            loop.num_crossover) == expected
    # shrunk: two input sizes, two candidates on 4 images, BN recalibrated on 2
    cfg.model.architecture.input_resizer_cfg = TINY_RESIZER
    cfg.train_dataloader = fm_loader(fashion_mnist_root, 2)
    loop.dataloader = fm_loader(fashion_mnist_root, 4)
    loop.update(max_epochs=1, num_candidates=2, top_k=1, num_mutation=1, num_crossover=0,
                calibrate_sample_num=2, estimator_cfg=dict(input_shape=TINY_SHAPE))
    for key in ('val_cfg', 'val_dataloader', 'val_evaluator', 'test_cfg', 'test_dataloader',
                'test_evaluator'):
        cfg[key] = None
    cfg.default_hooks.checkpoint = None
    cfg.work_dir, cfg.randomness = str(tmp_path), dict(seed=0)
    Runner.from_cfg(cfg).train()
    state_file, = glob.glob(str(tmp_path / 'search_epoch_*.pkl'))
    top = Candidates(load_data_pickle(state_file)['top_k_candidates'])
    assert len(top) == 1 and 0 < top.resources('flops')[0] <= 700.
    searched = str(tmp_path / 'best_fix_subnet.yaml')
    with open(searched) as f1, open(osp.join(osp.dirname(path), shipped_yaml)) as f2:
        assert set(yaml.safe_load(f1)) == set(yaml.safe_load(f2))
    assert glob.glob(str(tmp_path / 'subnet_*.pth'))
    subnet_cfg = Config.fromfile(path.format('subnet_8xb256'))
    subnet_cfg.model.update(fix_subnet=searched, init_cfg=None,
                            init_weight_from_supernet=False)  # no download
    subnet_cfg.model.cfg.input_resizer_cfg = TINY_RESIZER
    with DefaultScope.overwrite_default_scope('mmrazor'):
        subnet = MODELS.build(subnet_cfg.model)
    assert not any(isinstance(m, DynamicMixin) for m in subnet.modules())
    with torch.no_grad():
        assert subnet.eval()(torch.rand(1, 3, 32, 32), mode='tensor').shape == (1, 1000)

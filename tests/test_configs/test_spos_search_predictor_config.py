"""MMRazor's SPOS search-with-predictor config runs its evolution search in a real
Runner (loaders swapped for a few Fashion-MNIST images): a Gaussian process is fitted
on evaluated subnets, saved, and scores every candidate; a second search loads the
saved handler instead of evaluating anything and scores the same."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmrazor.engine.runner.utils.search_state import load_data_pickle
from mmrazor.structures import Candidates

from ..conftest import REPO_ROOT

CONFIG = osp.join(REPO_ROOT, 'configs', 'nas', 'mmcls', 'spos',
                  'spos_shufflenet_search_predictor_8xb128_in1k.py')


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_search_cfg(work_dir: str, data_root: str) -> Config:
    cfg = Config.fromfile(CONFIG)
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
        loader.dataset = dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root,
                              split='test', indices=4,
                              pipeline=[dict(type='mmpretrain.PackInputs')])
    cfg.train_cfg.dataloader = cfg.val_dataloader
    cfg.train_cfg.update(max_epochs=1, num_candidates=4, top_k=2, num_mutation=1,
                         num_crossover=1)
    cfg.train_cfg.predictor_cfg.train_samples = 8
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=0)
    return cfg


def test_the_predictor_config_scores_candidates_with_a_gaussian_process(
        tmp_path, fashion_mnist_root):
    cfg = Config.fromfile(CONFIG)
    loop = cfg.train_cfg
    assert (loop.type, loop.max_epochs, loop.num_candidates, loop.top_k,
            loop.constraints_range) == ('mmrazor.EvolutionSearchLoop', 20, 50, 10,
                                        dict(flops=(0., 360.)))
    assert loop.predictor_cfg == dict(type='mmrazor.MetricPredictor', train_samples=20,
                                      handler_cfg=dict(type='mmrazor.GaussProcessHandler'))

    runner = Runner.from_cfg(tiny_search_cfg(str(tmp_path / 'fit'), fashion_mnist_root))
    runner.train()
    search = runner.train_loop
    predictor = search.predictor
    assert search.use_predictor and predictor.initialize
    assert predictor.handler.data.shape == (8, 80)  # 8 evaluated subnets, 20 x 4 one-hot
    checkpoint = str(tmp_path / 'fit' / 'predictor_gaussprocesshandler.npz')
    assert osp.isfile(checkpoint)
    top_k = Candidates(load_data_pickle(str(tmp_path / 'fit' / 'search_epoch_1.pkl'))[
        'top_k_candidates'])
    assert all(flops <= 360 for flops in top_k.resources('flops'))
    for subnet, score in zip(top_k.subnets, top_k.scores):
        assert score == round(predictor.predict(subnet)['accuracy/top1'], 2)

    # the saved handler replaces fitting: nothing is evaluated, the scores agree
    cfg = tiny_search_cfg(str(tmp_path / 'load'), fashion_mnist_root)
    cfg.train_cfg.predictor_cfg.handler_ckpt = checkpoint
    runner = Runner.from_cfg(cfg)
    runner.train()
    loaded = runner.train_loop.predictor
    assert not osp.exists(tmp_path / 'load' / 'predictor_gaussprocesshandler.npz')
    assert [loaded.predict(s) for s in top_k.subnets] == [predictor.predict(s)
                                                         for s in top_k.subnets]

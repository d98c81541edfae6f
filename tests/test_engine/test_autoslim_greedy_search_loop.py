"""``AutoSlimGreedySearchLoop`` in a real Runner on a tiny AutoSlim supernet (a
2-stage mmpretrain ResNet, 6 channel groups of 4 widths) trained briefly on
Fashion-MNIST: each step narrows the group whose narrowing scores best; every
target's subnet is saved as ``FLOPS_<flops>M.yaml``, rebuilds a static subnet within
its budget, and the larger target keeps at least the channels of the smaller one; a
search resumed from a mid-search state ends exactly as the uninterrupted one; bad
arguments are refused."""
import glob
import os.path as osp
from typing import Any, Dict, List, Optional

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner, save_checkpoint

from mmrazor.engine.runner.utils import check_subnet_resources
from mmrazor.engine.runner.utils.search_state import dump_data_pickle, load_data_pickle
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.utils.weights import load_weights

from ..test_models.test_algorithms.test_bignas import DISTILLER
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401
from .spos_search_helpers import loader

INPUT_SHAPE = (1, 3, 28, 28)


def supernet() -> dict:
    """An mmpretrain ResNet-18 cut to 2 stages of 16/32 channels, for 28x28 input."""
    return dict(
        _scope_='mmpretrain', type='ImageClassifier',
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10,
                               mean=[72.94] * 3, std=[90.02] * 3),
        backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(1, ),
                      stem_channels=16, base_channels=16, strides=(1, 2),
                      dilations=(1, 1)),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=32))


def autoslim_cfg() -> dict:
    return dict(
        _scope_='mmrazor', type='AutoSlim', architecture=supernet(), distiller=DISTILLER,
        mutator=dict(type='OneShotChannelMutator', channel_unit_cfg=dict(
            type='OneShotMutableChannelUnit',
            default_args=dict(candidate_choices=[0.25, 0.5, 0.75, 1.0],
                              choice_mode='ratio', divisor=4)),
            parse_cfg=dict(type='ChannelAnalyzer', demo_input=INPUT_SHAPE,
                           tracer_type='BackwardTracer')))


def runner_cfg(work_dir: str, data_root: str, test_cfg: Optional[dict] = None,
               **extra: Any) -> Config:
    cfg = dict(
        model=autoslim_cfg(), work_dir=work_dir, default_scope='mmrazor',
        experiment_name=osp.basename(work_dir.rstrip('/')),
        train_dataloader=loader(data_root, 64, 32, 'train'),
        train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=100),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
                           accumulative_counts=4),
        randomness=dict(seed=0),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                           save_last=False),
                           logger=dict(type='LoggerHook', interval=1)),
        log_level='WARNING')
    if test_cfg is not None:
        cfg.update(test_dataloader=loader(data_root, 64, 32),
                   test_evaluator=dict(type='mmpretrain.Accuracy'),
                   test_cfg=dict(type='mmrazor.AutoSlimGreedySearchLoop',
                                 estimator_cfg=dict(input_shape=INPUT_SHAPE), **test_cfg))
    cfg.update(extra)
    return Config(cfg)


@pytest.fixture(scope='module')
def supernet_ckpt(tmp_path_factory, fashion_mnist_root) -> str:
    """The tiny supernet after 2 AutoSlim epochs on 64 images (scores differ)."""
    work_dir = str(tmp_path_factory.mktemp('autoslim_train'))
    runner = Runner.from_cfg(runner_cfg(work_dir, fashion_mnist_root))
    runner.train()
    path = osp.join(work_dir, 'supernet.pth')
    save_checkpoint({'state_dict': runner.model.state_dict()}, path)
    return path


def search(work_dir: str, data_root: str, ckpt: str, **test_cfg: Any) -> Runner:
    runner = Runner.from_cfg(runner_cfg(work_dir, data_root, test_cfg, load_from=ckpt))
    runner.test()
    return runner


@pytest.fixture(scope='module')
def widest_flops() -> float:
    model = MODELS.build(autoslim_cfg())
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator',
                                      input_shape=INPUT_SHAPE))
    return check_subnet_resources(model, model.mutator.max_choices, estimator)[1]['flops']


@pytest.fixture(scope='module')
def targets(widest_flops) -> List[float]:
    """Two budgets: ~75 % and ~45 % of the widest subnet's FLOPs."""
    return [round(widest_flops * 0.75, 3), round(widest_flops * 0.45, 3)]


@pytest.fixture(scope='module')
def finished(tmp_path_factory, fashion_mnist_root, supernet_ckpt, targets):
    work_dir = str(tmp_path_factory.mktemp('autoslim_search'))
    # given smallest first: the loop searches from the largest target down
    runner = search(work_dir, fashion_mnist_root, supernet_ckpt,
                    target_flops=tuple(reversed(targets)))
    return runner.test_loop, work_dir


def static_subnet(path: str) -> nn.Module:
    return MODELS.build(dict(type='mmrazor.sub_model', cfg=supernet(), fix_subnet=path,
                             mode='mutator'))


def conv_widths(model: nn.Module) -> Dict[str, int]:
    return {name: module.out_channels for name, module in model.named_modules()
            if isinstance(module, nn.Conv2d)}


def test_each_target_gets_a_saved_subnet_within_budget(finished, targets):
    loop, work_dir = finished
    assert loop.target_flops == sorted(targets, reverse=True)
    assert len(loop.searched_subnet) == 2
    files = sorted(glob.glob(osp.join(work_dir, 'FLOPS_*M.yaml')))
    assert [osp.basename(f) for f in files] == sorted(
        f'FLOPS_{flops:.2f}M.yaml' for flops in loop.searched_subnet_flops)
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator',
                                      input_shape=INPUT_SHAPE))
    widths = []
    for flops, target in zip(loop.searched_subnet_flops, loop.target_flops):
        model = static_subnet(osp.join(work_dir, f'FLOPS_{flops:.2f}M.yaml'))
        measured = estimator.estimate(model)['flops']
        assert measured == pytest.approx(flops) and measured <= target
        widths.append(conv_widths(model))
        out = model(torch.rand(2, *INPUT_SHAPE[1:]), mode='tensor')
        assert out.shape == (2, 10)
    larger, smaller = widths
    assert all(larger[name] >= smaller[name] for name in larger)
    assert any(larger[name] > smaller[name] for name in larger)
    # greedy: the larger target's subnet is a step on the way to the smaller one's
    first, second = loop.searched_subnet
    assert all(first[g] >= second[g] for g in first) and first != second


def test_a_step_narrows_the_best_scoring_group(tmp_path, fashion_mnist_root, supernet_ckpt,
                                               widest_flops):
    """A target just below the widest subnet takes exactly one step: the narrowing
    chosen is the first of those that score best, each scored here directly."""
    runner = search(str(tmp_path), fashion_mnist_root, supernet_ckpt,
                    target_flops=(widest_flops - 1e-3, ))
    loop = runner.test_loop
    scores = {}
    for group in sorted(loop.max_subnet):
        narrowed = {**loop.max_subnet, group: loop.max_subnet[group] - 1}
        loop.model.mutator.set_choices(loop._channel_bins2choices(narrowed))
        scores[group] = loop._score()
    assert len(set(scores.values())) > 1  # the trained supernet tells them apart
    best = max(scores.values())
    chosen = [g for g in sorted(scores) if scores[g] == best][0]
    assert loop.searched_subnet == [{**loop.max_subnet, chosen: 3}]
    # without calibrate_sample_num the trained statistics are used as they are
    key = 'architecture.backbone.bn1.running_mean'
    assert torch.equal(runner.model.state_dict()[key],
                       load_weights(supernet_ckpt)['state_dict'][key])


def test_resume_mid_search_ends_as_uninterrupted(tmp_path, fashion_mnist_root, supernet_ckpt,
                                                 targets, finished):
    loop, _ = finished
    # a state met on the way to the second target: the search stopped one greedy
    # step past the first target's subnet
    first_flops = loop.searched_subnet_flops[0]
    partial = search(str(tmp_path / 'partial'), fashion_mnist_root, supernet_ckpt,
                     target_flops=(targets[0], first_flops - 1e-3)).test_loop
    assert partial.searched_subnet[0] == loop.searched_subnet[0]
    state_file = str(tmp_path / 'mid.pkl')
    state = load_data_pickle(str(tmp_path / 'partial' / 'latest.pkl'))
    assert state['current_flops'] > targets[1]  # the second target not reached yet
    dump_data_pickle(dict(state, searched_subnet=state['searched_subnet'][:1],
                          searched_subnet_flops=state['searched_subnet_flops'][:1]),
                     state_file)
    resumed = search(str(tmp_path / 'resumed'), fashion_mnist_root, supernet_ckpt,
                     target_flops=tuple(targets), resume_from=state_file).test_loop
    assert resumed.searched_subnet == loop.searched_subnet
    assert resumed.searched_subnet_flops == loop.searched_subnet_flops
    saved = load_data_pickle(str(tmp_path / 'resumed' / 'latest.pkl'))
    assert saved['searched_subnet'] == loop.searched_subnet


def test_bad_arguments_are_refused(tmp_path, fashion_mnist_root, supernet_ckpt):
    with pytest.raises(ValueError, match='target_flops must be a non-empty tuple'):
        search(str(tmp_path / 'a'), fashion_mnist_root, supernet_ckpt, target_flops=300.)
    with pytest.raises(FileNotFoundError, match='resume_from.*does not exist'):
        search(str(tmp_path / 'b'), fashion_mnist_root, supernet_ckpt, target_flops=(1., ),
               resume_from=str(tmp_path / 'missing.pkl'))
    narrowest = str(tmp_path / 'narrowest.pkl')  # every group at its narrowest
    dump_data_pickle(dict(current_subnet={g: 1 for g in range(6)}, current_flops=0.18,
                          searched_subnet=[], searched_subnet_flops=[]), narrowest)
    with pytest.raises(RuntimeError, match='targets are below the smallest subnet'):
        search(str(tmp_path / 'c'), fashion_mnist_root, supernet_ckpt,
               target_flops=(1e-3, ), resume_from=narrowest)
    bad = str(tmp_path / 'bad.pkl')
    dump_data_pickle(dict(current_subnet={0: 1}), bad)
    with pytest.raises(ValueError, match='not an AutoSlim search checkpoint'):
        search(str(tmp_path / 'd'), fashion_mnist_root, supernet_ckpt, target_flops=(1., ),
               resume_from=bad)


def test_calibrate_sample_num_recalibrates_batch_norms_before_each_score(
        tmp_path, fashion_mnist_root, supernet_ckpt, widest_flops):
    runner = search(str(tmp_path), fashion_mnist_root, supernet_ckpt,
                    target_flops=(widest_flops - 1e-3, ), calibrate_sample_num=16)
    loaded = load_weights(supernet_ckpt)['state_dict']
    key = 'architecture.backbone.bn1.running_mean'
    mean = runner.model.state_dict()[key]
    # the stem's statistics are now those of 16 training images, not the trained ones
    assert not torch.allclose(mean, loaded[key])

"""SPOS on a narrow SPOS ShuffleNetV2 supernet (an mmpretrain ImageClassifier): in a
real MMEngine Runner on Fashion-MNIST every step trains one uniformly sampled path (the
other candidates' weights and statistics stay untouched) and steps sample different
paths; ``norm_training`` keeps batch norms normalising with batch statistics in eval
mode; bad mutators and supernets without choices are refused."""
import collections
import random
from typing import Dict, List, Set

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmrazor.models import SPOS
from mmrazor.models.mutables import OneShotMutableOP
from mmrazor.models.mutators import NasMutator
from mmrazor.registry import MODELS

# one_thread: an autouse fixture, active here once imported
from ..test_architectures.test_searchable_shufflenet import nas_backbone, one_thread  # noqa: F401


def supernet() -> dict:
    """The SPOS space at a quarter of its width, for 10 classes."""
    return dict(
        _scope_='mmpretrain', type='ImageClassifier',
        # Fashion-MNIST's grey channel broadcasts to the stem's three input channels
        data_preprocessor=dict(type='ClsDataPreprocessor', num_classes=10,
                               mean=[72.94] * 3, std=[90.02] * 3),
        backbone=nas_backbone(widen_factor=0.25), neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10, in_channels=1024))


def spos(**kwargs) -> SPOS:
    torch.manual_seed(0)
    return MODELS.build(dict(type='mmrazor.SPOS', architecture=supernet(), **kwargs))


def chosen(model: nn.Module) -> Dict[str, str]:
    """``{block name in the state dict: chosen candidate}``."""
    return {name: m.current_choice for name, m in model.named_modules()
            if isinstance(m, OneShotMutableOP)}


class StepRecorder(Hook):
    """Records each step's path and the state-dict entries the step changed."""

    def __init__(self) -> None:
        self.paths: List[Dict[str, str]] = []
        self.changed: List[Set[str]] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._before = {k: v.clone() for k, v in runner.model.state_dict().items()}

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.paths.append(chosen(runner.model))
        self.changed.append({k for k, v in runner.model.state_dict().items()
                             if not torch.equal(v, self._before[k])})


def runner(tmp_path, data_root: str, max_iters: int) -> Runner:
    data = dict(batch_size=8, num_workers=0, sampler=dict(type='DefaultSampler',
                                                         shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=data_root,
                             split='test', indices=8 * max_iters,
                             pipeline=[dict(type='mmpretrain.PackInputs')]))
    return Runner.from_cfg(Config(dict(
        model=dict(type='mmrazor.SPOS', architecture=supernet(),
                   mutator=dict(type='mmrazor.NasMutator')),
        work_dir=str(tmp_path), default_scope='mmrazor', train_dataloader=data,
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters),
        # momentum and weight decay too: they must not move the unsampled candidates
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                          weight_decay=1e-4)),
        val_dataloader=data, val_evaluator=dict(type='mmpretrain.Accuracy'),
        val_cfg=dict(type='ValLoop'), randomness=dict(seed=0),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                           save_last=False)))))


def test_each_runner_step_trains_only_its_sampled_path(tmp_path, fashion_mnist_root):
    run = runner(tmp_path, fashion_mnist_root, max_iters=3)
    recorder = StepRecorder()
    run.register_hook(recorder)
    run.train()
    assert len({tuple(path.values()) for path in recorder.paths}) == 3  # new path each step
    for path, changed in zip(recorder.paths, recorder.changed):
        assert len(path) == 20
        trained = collections.defaultdict(set)  # block -> candidates with changed entries
        for key in changed:
            if '._candidates.' in key:
                block, rest = key.split('._candidates.')
                trained[block].add(rest.split('.')[0])
        # weights and running statistics of the sampled candidates only
        assert trained == {block: {choice} for block, choice in path.items()}
        assert {'architecture.backbone.conv1.conv.weight',
                'architecture.head.fc.weight'} <= changed
    assert 'val/accuracy/top1' in run.message_hub.log_scalars  # predict mode too


def test_subnets_are_sampled_uniformly_over_the_candidates():
    model = spos()
    random.seed(0)
    counts = collections.Counter(model.sample_subnet()['module_5'] for _ in range(800))
    assert set(counts) == {'shuffle_3x3', 'shuffle_5x5', 'shuffle_7x7', 'shuffle_xception'}
    assert all(150 <= n <= 250 for n in counts.values()), counts


@pytest.mark.parametrize('norm_training', [False, True])
def test_norm_training_keeps_batch_norms_on_batch_statistics_in_eval(norm_training):
    model = spos(norm_training=norm_training)
    model.mutator.set_choices(model.mutator.sample_choices())
    model.eval()
    norms = [m for m in model.architecture.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.training == norm_training for m in norms)
    stem_norm = model.architecture.backbone.conv1.bn
    before = stem_norm.running_mean.clone()
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        out = model(x, mode='tensor')
        # with batch statistics a sample's output depends on the rest of the batch
        alone = model(x[:2], mode='tensor')
    assert torch.allclose(out[:2], alone, atol=1e-5) != norm_training
    assert torch.equal(stem_norm.running_mean, before) != norm_training
    assert not model.architecture.backbone.training  # the rest is in eval mode


def test_default_mutator_and_mmrazor_signature():
    model = spos()
    assert isinstance(model.mutator, NasMutator)
    assert len(model.mutator.search_groups) == 20
    assert model.norm_training is False


def test_bad_mutator_and_a_supernet_without_choices_are_refused():
    with pytest.raises(TypeError, match='SPOS needs a NasMutator .* got ChannelMutator'):
        spos(mutator=dict(type='mmrazor.ChannelMutator'))
    plain = dict(_scope_='mmpretrain', type='ImageClassifier',
                 backbone=dict(type='ResNet_CIFAR', depth=18, num_stages=1, strides=(1, ),
                               dilations=(1, ), out_indices=(0, )),
                 neck=dict(type='GlobalAveragePooling'),
                 head=dict(type='LinearClsHead', num_classes=10, in_channels=64))
    with pytest.raises(ValueError, match='SPOS found nothing to search in ImageClassifier'):
        SPOS(plain)


# ---- two gloo processes -------------------------------------------------------------


def _ddp_worker(rank: int, port: int, out_dir: str) -> None:
    import torch.distributed as dist
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import OptimWrapper
    from mmpretrain.structures import DataSample
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                            world_size=2)
    try:
        model = spos()  # same seed: the same weights on both ranks
        random.seed(rank)  # but each rank's own draws would give other paths
        # MMRazor's SPOS configs: the default wrapper with find_unused_parameters
        ddp = MMDistributedDataParallel(model, find_unused_parameters=True)
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
        generator = torch.Generator().manual_seed(rank)  # per-rank data
        paths = []
        for _ in range(2):
            data = dict(inputs=[torch.randint(0, 256, (1, 28, 28), dtype=torch.uint8,
                                              generator=generator) for _ in range(2)],
                        data_samples=[DataSample().set_gt_label(i) for i in range(2)])
            ddp.train_step(data, wrapper)
            paths.append(chosen(model))
        params = torch.cat([p.detach().flatten() for p in model.parameters()])
        torch.save(dict(paths=paths, params=params), f'{out_dir}/{rank}.pth')
    finally:
        dist.destroy_process_group()


def test_two_processes_train_the_same_paths_and_weights(tmp_path):
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_ddp_worker, args=(port, str(tmp_path)), nprocs=2)
    first, second = (torch.load(tmp_path / f'{rank}.pth', weights_only=False)  # ours
                     for rank in range(2))
    assert first['paths'] == second['paths']  # rank 0's sample, broadcast
    assert first['paths'][0] != first['paths'][1]
    assert torch.equal(first['params'], second['params'])  # gradients averaged

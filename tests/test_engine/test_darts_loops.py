"""The DARTS train loops in a real Runner on Fashion-MNIST: every step of ``Darts`` gets
``(train batch, mutator batch)``; an epoch is one pass over the train split while the
smaller mutator split is cycled alongside; the iteration loop cycles both; both train
weights and architecture parameters; a bad mutator loader is refused."""
from typing import List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmrazor.engine.runner import DartsEpochBasedTrainLoop, DartsIterBasedTrainLoop

from ..test_models.test_algorithms.test_darts import darts_classifier
from ..test_models.test_architectures.test_searchable_shufflenet import one_thread  # noqa: F401


class PairRecorder(Hook):
    """The (train, mutator) inputs each step got."""

    def __init__(self) -> None:
        self.pairs: List[Tuple[torch.Tensor, torch.Tensor]] = []

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        train, mutator = data_batch
        self.pairs.append((torch.stack(train['inputs']), torch.stack(mutator['inputs'])))


def loader(root: str, indices: list) -> dict:
    return dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                dataset=dict(type='mmrazor.OfflineFashionMNIST', data_root=root, split='test',
                             indices=indices, pipeline=[dict(type='mmpretrain.PackInputs')]))


def runner(tmp_path, root: str, train_cfg: dict) -> Runner:
    return Runner.from_cfg(Config(dict(
        model=dict(type='mmrazor.Darts', architecture=darts_classifier()),
        work_dir=str(tmp_path), default_scope='mmrazor', experiment_name=tmp_path.name,
        train_dataloader=loader(root, list(range(8))),
        train_cfg=dict(train_cfg, mutator_dataloader=loader(root, [100, 101, 102, 103])),
        optim_wrapper=dict(constructor='mmrazor.SeparateOptimWrapperConstructor',
                           architecture=dict(optimizer=dict(type='SGD', lr=0.1)),
                           mutator=dict(optimizer=dict(type='Adam', lr=0.01))),
        randomness=dict(seed=0),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1,
                                           save_last=False)))))


def train(tmp_path, root: str, train_cfg: dict) -> Tuple[Runner, PairRecorder]:
    """Train with ``train_cfg``; both the architecture and the weights changed."""
    trained = runner(tmp_path, root, train_cfg)
    recorder = PairRecorder()
    trained.register_hook(recorder)
    model = trained.model
    arch = {k: v.detach().clone() for k, v in model.mutator.arch_params.items()}
    weights = model.architecture.head.fc.weight.detach().clone()
    trained.train()
    assert all(not torch.equal(v, arch[k]) for k, v in model.mutator.arch_params.items())
    assert not torch.equal(model.architecture.head.fc.weight, weights)
    return trained, recorder


def test_epoch_loop_pairs_each_train_batch_with_a_cycled_mutator_batch(
        tmp_path, fashion_mnist_root):
    run, recorder = train(tmp_path, fashion_mnist_root, dict(
        type='mmrazor.DartsEpochBasedTrainLoop', max_epochs=1))
    assert isinstance(run.train_loop, DartsEpochBasedTrainLoop)
    assert run.train_loop.max_iters == 4 and len(recorder.pairs) == 4  # 8 images, batch 2
    trains = [pair[0] for pair in recorder.pairs]
    mutators = [pair[1] for pair in recorder.pairs]
    assert all(not torch.equal(a, b) for i, a in enumerate(trains) for b in trains[i + 1:])
    # 4 mutator images are 2 batches: the loader starts over for steps 3 and 4
    assert torch.equal(mutators[0], mutators[2]) and torch.equal(mutators[1], mutators[3])
    assert not torch.equal(mutators[0], mutators[1])
    assert all(not torch.equal(m, t) for m in mutators for t in trains)
    assert {'train/mutator.loss', 'train/supernet.loss'} <= set(run.message_hub.log_scalars)


def test_iter_loop_cycles_both_loaders(tmp_path, fashion_mnist_root):
    run, recorder = train(tmp_path, fashion_mnist_root, dict(
        type='mmrazor.DartsIterBasedTrainLoop', max_iters=5))
    assert isinstance(run.train_loop, DartsIterBasedTrainLoop)
    assert len(recorder.pairs) == 5
    trains = [pair[0] for pair in recorder.pairs]
    mutators = [pair[1] for pair in recorder.pairs]
    assert torch.equal(trains[0], trains[4]) and not torch.equal(trains[0], trains[1])
    assert torch.equal(mutators[0], mutators[2]) and torch.equal(mutators[1], mutators[3])


def test_bad_mutator_dataloader_is_refused(tmp_path, fashion_mnist_root):
    bad = runner(tmp_path, fashion_mnist_root, dict(type='mmrazor.DartsEpochBasedTrainLoop',
                                                    max_epochs=1))
    bad._train_loop = dict(type='mmrazor.DartsEpochBasedTrainLoop', max_epochs=1,
                           mutator_dataloader=[1, 2])
    with pytest.raises(TypeError, match='mutator_dataloader must be a DataLoader or a '
                                        'dataloader config dict, got list'):
        bad.train_loop

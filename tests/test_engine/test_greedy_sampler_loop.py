"""``GreedySamplerTrainLoop`` training a tiny SPOS supernet on real Fashion-MNIST
images: the pool fills with subnets that meet the FLOPs budget, best first; the
probability of drawing from the pool follows its schedule; each iteration trains the
next of the pool's top k (SPOS's own sampler does not replace it), so only those
paths' weights change; the pool is saved for an evolution search; bad arguments are
refused before anything is built."""
import math
import os
import os.path as osp
import random

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmrazor.engine.runner.evolution_search_loop import load_candidates
from mmrazor.models.mutables import OneShotMutableOP

from .spos_search_helpers import TINY_FLOPS_BUDGET, loader, runner_cfg

MAX_ITERS = 6
TOP_K = 2


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Recorder(Hook):
    """What each iteration trains, the loop's state then, and the choice after the
    train step."""

    def __init__(self) -> None:
        self.trained, self.after, self.prob, self.pool, self.pending = [], [], [], [], []

    def before_train(self, runner) -> None:
        # the weights as training starts (after the runner's init_weights)
        self.initial = {k: v.clone() for k, v in runner.model.state_dict().items()}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        loop = runner.train_loop
        self.trained.append(loop.model.mutator.current_choices)  # unwrapped
        self.prob.append(loop.cur_prob)
        self.pool.append(pool_items(loop.candidates))
        self.pending.append(loop.top_k_candidates.subnets)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.after.append(runner.train_loop.model.mutator.current_choices)


def pool_items(candidates) -> list:
    """``[(subnet, score)]`` of a pool, copied."""
    return [(subnet, score) for subnet, score in zip(candidates.subnets, candidates.scores)]


def refreshes(recorder: Recorder) -> list:
    """The iterations that refreshed the pool: the first, and each one that found
    no top-k subnet left to train."""
    return [it for it in range(MAX_ITERS) if it == 0 or not recorder.pending[it - 1]]


def greedy_cfg(data_root: str, **kwargs) -> dict:
    cfg = dict(type='mmrazor.GreedySamplerTrainLoop', dataloader_val=loader(data_root, 16),
               evaluator=dict(type='mmpretrain.Accuracy'), max_iters=MAX_ITERS,
               constraints_range=dict(flops=TINY_FLOPS_BUDGET),
               estimator_cfg=dict(input_shape=(1, 3, 28, 28)), num_candidates=4,
               num_samples=4, top_k=TOP_K, schedule_start_iter=2, schedule_end_iter=4,
               init_prob=0., max_prob=1.)
    cfg.update(kwargs)
    return cfg


def build_runner(work_dir: str, data_root: str, **kwargs) -> Runner:
    cfg = runner_cfg(work_dir, data_root, greedy_cfg(data_root, **kwargs))
    cfg.train_dataloader.batch_size = 8
    return Runner.from_cfg(cfg)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, fashion_mnist_root):
    """A finished 6-iteration run: ``(runner, recorder)``."""
    runner = build_runner(str(tmp_path_factory.mktemp('greedy')), fashion_mnist_root)
    recorder = Recorder()
    runner.register_hook(recorder)
    runner.train()
    return runner, recorder


def test_the_pool_holds_distinct_subnets_within_the_budget_best_first(trained):
    runner, _ = trained
    loop = runner.train_loop
    pool = loop.candidates
    assert 0 < len(pool) <= 4
    assert len({str(s) for s in pool.subnets}) == len(pool)
    assert pool.scores == sorted(pool.scores, reverse=True)
    for subnet in pool.subnets:
        passed, results = loop._check_constraints(subnet)
        assert passed and 0 < results['flops'] <= TINY_FLOPS_BUDGET
    # saved as data an evolution search starts from
    saved = load_candidates(osp.join(runner.work_dir, 'candidates.pkl'))
    assert saved.subnets == pool.subnets and saved.scores == pool.scores


def test_each_iteration_trains_the_next_of_the_top_k(trained):
    runner, recorder = trained
    assert len(refreshes(recorder)) < MAX_ITERS  # some refresh trained two subnets
    for it in range(MAX_ITERS):
        # SPOS's loss draws its path from sample_subnet: the loop's choice survived
        assert recorder.after[it] == recorder.trained[it]
        if it in refreshes(recorder):  # this and the next iterations train the top k
            top_k = [subnet for subnet, _ in recorder.pool[it][:TOP_K]]
            assert [recorder.trained[it]] + recorder.pending[it] == top_k
        else:
            assert [recorder.trained[it]] + recorder.pending[it] == recorder.pending[it - 1]
    assert 'sample_subnet' not in vars(runner.model)  # SPOS's sampler is back


def test_only_the_trained_paths_change(trained):
    runner, recorder = trained
    trained_choices = {(key, s[key]) for s in recorder.trained for key in s}
    changed = {name for name, value in runner.model.state_dict().items()
               if not torch.equal(value, recorder.initial[name])}
    assert 0 < len(trained_choices) < 16  # some of the 4 x 4 candidate ops never trained
    for key, (mutable, ) in runner.model.mutator.search_groups.items():
        assert isinstance(mutable, OneShotMutableOP)
        prefix = next(n for n, m in runner.model.named_modules() if m is mutable)
        for choice in mutable.choices:
            params = [f'{prefix}._candidates.{choice}.{n}' for n, _ in
                      mutable._candidates[choice].named_parameters()]
            touched = any(p in changed for p in params)
            assert touched == ((key, choice) in trained_choices), (key, choice)


def test_the_probability_follows_the_schedule(trained):
    _, recorder = trained
    # linear from 0 at iteration 2 (schedule_start_iter) to 1 at iteration 4
    assert any(it >= 4 for it in refreshes(recorder))
    for it in refreshes(recorder):
        assert recorder.prob[it] == pytest.approx(min(max(it - 2, 0) / 2, 1.))
        if it >= 4:  # probability 1: every draw came from the pool, no subnet joined
            assert {str(s) for s, _ in recorder.pool[it]} == {
                str(s) for s, _ in recorder.pool[it - 1]}
    loop = trained[0].train_loop
    schedule = dict(schedule_start_iter=100, schedule_end_iter=200, init_prob=0.2,
                    max_prob=0.6)
    for name, value in schedule.items():
        setattr(loop, name, value)
    expected = {'linear': [0.2, 0.2, 0.3, 0.4, 0.6, 0.6],
                'cosine': [0.2, 0.2, 0.2 + 0.4 * (1 - math.cos(math.pi / 4)) / 2, 0.4,
                           0.6, 0.6]}
    for schedule_name, probs in expected.items():
        loop.prob_schedule = schedule_name
        got = []
        for it in (0, 100, 125, 150, 200, 300):
            loop.update_cur_prob(it)
            got.append(loop.cur_prob)
        assert got == pytest.approx(probs)


def test_draws_come_from_the_pool_with_the_current_probability(trained):
    loop = trained[0].train_loop
    pool = {str(s) for s in loop.candidates.subnets}
    for prob in (0., 0.5, 1.):
        loop.cur_prob = prob
        random.seed(0)
        drawn, from_supernet = loop.get_candidates_with_sample(200)
        from_pool = [s for s in drawn if str(s) in pool]
        assert len(from_pool) >= 200 - from_supernet  # every pool draw is a pool subnet
        assert abs((200 - from_supernet) / 200 - prob) < 0.1
        if prob == 0:
            assert not from_pool  # new subnets only, none already pooled


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(prob_schedule='exp'), ValueError,
     r"prob_schedule must be one of \('linear', 'cosine'\), got 'exp'"),
    (dict(top_k=5), ValueError, r'top_k must be in \[1, num_candidates=4\], got 5'),
    (dict(max_prob=1.5), ValueError, r'max_prob must be a probability in \[0, 1\]'),
    (dict(schedule_start_iter=4), ValueError,
     r'schedule_start_iter \(4\) must be less than schedule_end_iter \(4\)'),
    (dict(constraints_range=dict(memory=1)), KeyError,
     r"'memory', which the resource estimator cannot measure"),
])
def test_bad_arguments_are_refused(tmp_path, fashion_mnist_root, kwargs, error, match):
    with pytest.raises(error, match=match):
        build_runner(str(tmp_path), fashion_mnist_root, **kwargs).train()
    assert not osp.exists(tmp_path / 'candidates.pkl')


def test_mmrazors_spelling_of_cosine_is_accepted(tmp_path, fashion_mnist_root):
    loop = build_runner(str(tmp_path), fashion_mnist_root, prob_schedule='consine').train_loop
    assert loop.prob_schedule == 'cosine'


# ---- two gloo processes -------------------------------------------------------------

def _ddp_worker(rank: int, port: int, out_dir: str, data_root: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2',
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    # a different seed per rank: without rank 0's draws broadcast, the ranks would
    # train different subnets (and DDP would hang or mix gradients of other paths)
    cfg = runner_cfg(osp.join(out_dir, 'work'), data_root, greedy_cfg(data_root),
                     launcher='pytorch', randomness=dict(seed=rank),
                     env_cfg=dict(dist_cfg=dict(backend='gloo')),
                     model_wrapper_cfg=dict(type='MMDistributedDataParallel',
                                            find_unused_parameters=True))
    cfg.train_dataloader.batch_size = 8
    runner = Runner.from_cfg(cfg)
    recorder = Recorder()
    runner.register_hook(recorder)
    runner.train()
    model = runner.model.module
    params = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.save(dict(trained=recorder.trained, pools=recorder.pool, params=params),
               osp.join(out_dir, f'{rank}.pth'))


def test_two_gloo_processes_train_the_same_subnets_and_weights(tmp_path, fashion_mnist_root):
    import socket

    import torch.multiprocessing as mp
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    mp.spawn(_ddp_worker, args=(port, str(tmp_path), fashion_mnist_root), nprocs=2)
    first, second = (torch.load(tmp_path / f'{rank}.pth', weights_only=False)  # ours
                     for rank in range(2))
    assert first['trained'] == second['trained'] and len(first['trained']) == MAX_ITERS
    assert first['pools'] == second['pools']  # rank 0's draws, scored alike
    assert len({str(s) for s in first['trained']}) > 1
    assert torch.equal(first['params'], second['params'])  # gradients averaged
    assert osp.isfile(tmp_path / 'work' / 'candidates.pkl')

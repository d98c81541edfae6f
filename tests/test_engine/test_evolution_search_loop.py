"""``EvolutionSearchLoop`` on a tiny SPOS supernet and real Fashion-MNIST images: every
candidate meets the FLOPs budget (checked by cost tables, or by counting for latency),
the top k is the best seen, the best subnet's YAML and weights rebuild the supernet's
path exactly, old checkpoints are dropped; a search killed by SIGKILL after an epoch and
resumed ends exactly as the uninterrupted one; bad constraints, checkpoints and
arguments are refused before anything is written."""
import glob
import os
import os.path as osp
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
import yaml
from mmengine.registry import DefaultScope

from mmrazor.engine.runner.utils.search_state import load_data_pickle
from mmrazor.models.mutables import OneShotMutableOP
from mmrazor.registry import MODELS, TASK_UTILS
from mmrazor.structures import Candidates

from ..conftest import REPO_ROOT
from .spos_search_helpers import TINY_FLOPS_BUDGET, search_runner, tiny_supernet

HELPER = osp.join(osp.dirname(osp.abspath(__file__)), 'spos_search_helpers.py')


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def finished(tmp_path_factory, fashion_mnist_root):
    """A finished 3-epoch search: ``(runner, work_dir)``."""
    work_dir = str(tmp_path_factory.mktemp('search'))
    runner = search_runner(work_dir, fashion_mnist_root)
    runner.train()
    return runner, work_dir


def test_search_keeps_the_best_candidates_within_the_budget(finished):
    runner, work_dir = finished
    loop = runner.train_loop
    assert loop.cost_table is not None  # a single-path space: no forward per candidate
    state = load_data_pickle(osp.join(work_dir, 'search_epoch_3.pkl'))
    assert state['_epoch'] == 3
    top_k = Candidates(state['top_k_candidates'])
    assert len(top_k) == 3 and top_k.scores == sorted(top_k.scores, reverse=True)
    assert len({str(s) for s in top_k.subnets}) == 3  # distinct subnets
    assert all(0 < flops <= TINY_FLOPS_BUDGET for flops in top_k.resources('flops'))
    pool = Candidates(state['candidates'])  # the bred pool of the next epoch
    assert 0 < len(pool) <= 4
    assert not {str(s) for s in pool.subnets} & {str(s) for s in top_k.subnets}
    assert all(flops <= TINY_FLOPS_BUDGET for flops in pool.resources('flops'))
    # every pool member's figures are the estimator's count of its static subnet
    subnet = pool.subnets[0]
    from mmrazor.engine.runner.utils import check_subnet_resources
    _, counted = check_subnet_resources(loop.model, subnet, loop.estimator,
                                        loop.constraints_range)
    assert (pool.resources('flops')[0], pool.resources('params')[0]) == (
        counted['flops'], counted['params'])
    # max_keep_ckpts=2: epoch 1's checkpoint is gone
    assert sorted(os.listdir(work_dir)).count('search_epoch_1.pkl') == 0
    assert osp.isfile(osp.join(work_dir, 'search_epoch_2.pkl'))


def test_best_subnet_files_rebuild_the_supernet_path(finished):
    runner, work_dir = finished
    top_k = Candidates(load_data_pickle(osp.join(work_dir, 'search_epoch_3.pkl'))[
        'top_k_candidates'])
    with open(osp.join(work_dir, 'best_fix_subnet.yaml')) as f:
        best = yaml.safe_load(f)
    mutator = runner.model.mutator
    mutator.set_choices(top_k.subnets[0])
    supernet = runner.model.architecture
    chosen = {name: m.current_choice for name, m in supernet.named_modules()
              if isinstance(m, OneShotMutableOP)}
    assert {k: v['chosen'] for k, v in best.items()} == chosen
    checkpoint, = glob.glob(osp.join(work_dir, 'subnet_*.pth'))
    with DefaultScope.overwrite_default_scope('mmrazor'):
        subnet = MODELS.build(dict(
            type='sub_model', cfg=tiny_supernet(),
            fix_subnet=osp.join(work_dir, 'best_fix_subnet.yaml'),
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='architecture.')))
    subnet.init_weights()
    x = torch.rand(2, 3, 28, 28)
    with torch.no_grad():
        expected = supernet.eval()(x, mode='tensor')
        assert (subnet.eval()(x, mode='tensor') - expected).abs().max() <= 1e-5


def test_latency_constraints_are_counted_per_subnet(tmp_path, fashion_mnist_root):
    runner = search_runner(str(tmp_path), fashion_mnist_root, max_epochs=1, num_candidates=2,
                           top_k=1, num_mutation=1, num_crossover=0, calibrate_sample_num=-1,
                           constraints_range=dict(params=(0, 1.), latency=(0, 1e4)),
                           estimator_cfg=dict(input_shape=(1, 3, 28, 28),
                                              latency_cfg=dict(max_iter=3, num_warmup=1)))
    runner.train()
    loop = runner.train_loop
    assert loop.cost_table is None
    state = load_data_pickle(osp.join(str(tmp_path), 'search_epoch_1.pkl'))
    assert all(latency > 0 for latency in Candidates(state['top_k_candidates']).resources(
        'latency'))


def test_a_constraint_the_estimator_cannot_measure_is_refused(tmp_path, fashion_mnist_root):
    with pytest.raises(KeyError, match=r"'memory', which the resource estimator cannot "
                                       r'measure; valid keys: flops, params, latency'):
        search_runner(str(tmp_path / 'w'), fashion_mnist_root,
                      constraints_range=dict(memory=(0, 10))).train()
    assert not glob.glob(str(tmp_path / 'w' / '*.pkl'))
    assert not glob.glob(str(tmp_path / 'w' / '*.yaml'))


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(top_k=7), ValueError, r'top_k must be in \[1, num_candidates=6\]'),
    (dict(num_mutation=5), ValueError, r'num_mutation \(5\) \+ num_crossover \(2\)'),
    (dict(mutate_prob=1.5), ValueError, r'mutate_prob must be a probability'),
    (dict(resume_from='nowhere.pkl'), FileNotFoundError, r'nowhere.pkl does not exist'),
])
def test_bad_arguments_are_refused(tmp_path, fashion_mnist_root, kwargs, error, match):
    with pytest.raises(error, match=match):
        search_runner(str(tmp_path), fashion_mnist_root, **kwargs).train()


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, fashion_mnist_root):
    marker = tmp_path / 'ran'

    class Evil:
        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    bad = tmp_path / 'search_epoch_1.pkl'
    bad.write_bytes(pickle.dumps(dict(_epoch=1, candidates=[Evil()])))
    with pytest.raises(ValueError, match=r'not a search checkpoint.*refused'):
        search_runner(str(tmp_path / 'w'), fashion_mnist_root,
                      resume_from=str(bad)).train()
    assert not marker.exists()


def test_a_search_killed_by_sigkill_resumes_to_the_same_end(finished, tmp_path,
                                                           fashion_mnist_root):
    """The fixture's search ran 3 epochs uninterrupted; this one runs in its own
    process, is killed once epoch 1's checkpoint exists and is resumed from it."""
    _, full = finished
    killed = str(tmp_path / 'killed')
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='1')
    process = subprocess.Popen([sys.executable, HELPER, killed, fashion_mnist_root, '3'],
                               cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    checkpoint = osp.join(killed, 'search_epoch_1.pkl')
    deadline = time.time() + 300
    while not osp.isfile(checkpoint) and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, process.stderr.read().decode()[-2000:]
    assert osp.isfile(checkpoint)
    assert not osp.isfile(osp.join(killed, 'best_fix_subnet.yaml'))  # killed mid-search
    search_runner(killed, fashion_mnist_root, resume_from=checkpoint).train()
    for name in ('search_epoch_3.pkl', 'search_epoch_2.pkl'):
        # pools, scores, resources and random states
        assert load_data_pickle(osp.join(killed, name)) == load_data_pickle(
            osp.join(full, name))
    with open(osp.join(full, 'best_fix_subnet.yaml')) as f1, \
            open(osp.join(killed, 'best_fix_subnet.yaml')) as f2:
        assert f1.read() == f2.read()


@TASK_UTILS.register_module()
class TinyRidgePredictor:
    """A real (small) metric predictor: ridge regression on one-hot choices."""

    def __init__(self, score_key: str, search_groups: dict, train_samples: int = 4,
                 handler_ckpt=None) -> None:
        self.score_key = score_key
        self.choices = {key: group[0].choices for key, group in search_groups.items()}
        self.train_samples = train_samples
        self.handler_ckpt = handler_ckpt
        self.fitted_on = 0

    def model2vector(self, subnet: dict) -> np.ndarray:
        return np.concatenate([[float(subnet[key] == c) for c in choices]
                               for key, choices in self.choices.items()])

    def fit(self, inputs: np.ndarray, labels: np.ndarray) -> None:
        gram = inputs.T @ inputs + np.eye(inputs.shape[1])
        self.weights = np.linalg.solve(gram, inputs.T @ labels)
        self.fitted_on = len(labels)

    def predict(self, model) -> dict:
        vector = self.model2vector(model.mutator.current_choices)
        return {self.score_key: float(vector @ self.weights)}

    def save_checkpoint(self, path: str) -> str:
        os.makedirs(path, exist_ok=True)
        np.save(osp.join(path, 'weights.npy'), self.weights)
        return path


def test_a_predictor_scores_candidates_once_fitted(tmp_path, fashion_mnist_root):
    runner = search_runner(str(tmp_path), fashion_mnist_root, max_epochs=1,
                           predictor_cfg=dict(type='TinyRidgePredictor', train_samples=4))
    runner.train()
    loop = runner.train_loop
    predictor = loop.predictor
    assert loop.use_predictor and predictor.fitted_on == 4  # fitted on 4 evaluated subnets
    assert osp.isfile(tmp_path / 'predictor' / 'weights.npy')
    top_k = Candidates(load_data_pickle(str(tmp_path / 'search_epoch_1.pkl'))[
        'top_k_candidates'])
    for subnet, score in zip(top_k.subnets, top_k.scores):
        loop.model.mutator.set_choices(subnet)
        assert score == round(predictor.predict(loop.model)['accuracy/top1'], 2)


def test_init_candidates_start_the_pool(tmp_path, fashion_mnist_root):
    subnets = [{f'module_{i}': 'shuffle_3x3' for i in range(4)},
               {f'module_{i}': 'shuffle_5x5' for i in range(4)}]
    listed = tmp_path / 'init.yaml'
    listed.write_text(yaml.safe_dump(subnets))
    # a pickled Candidates, as MMRazor's searches wrote them (read as data only)
    pickled = tmp_path / 'init.pkl'
    pickled.write_bytes(pickle.dumps(Candidates(subnets[::-1])))
    for path, expected in ((listed, subnets), (pickled, subnets[::-1])):
        runner = search_runner(str(tmp_path / path.suffix[1:]), fashion_mnist_root,
                               init_candidates=str(path))
        assert runner.train_loop.candidates.subnets == expected

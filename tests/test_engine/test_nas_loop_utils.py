"""Helpers of the NAS loops: ``crossover``, ``Candidates`` (keys parsed without
``eval``), ``check_subnet_resources`` (ranges, scalar bounds, unknown resources) and
``CalibrateBNMixin`` (exact per-batch averages of the subnet's batch norms, others
untouched, partial last batch)."""
import random

import numpy as np
import pytest
import torch
from mmengine.runner import Runner

from mmrazor.engine.runner.utils import (
    CalibrateBNMixin,
    check_constraints_range,
    check_subnet_resources,
    crossover,
)
from mmrazor.registry import TASK_UTILS
from mmrazor.structures import Candidates

from .spos_search_helpers import runner_cfg


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def runner(tmp_path_factory, fashion_mnist_root) -> Runner:
    return Runner.from_cfg(runner_cfg(str(tmp_path_factory.mktemp('utils')),
                                      fashion_mnist_root,
                                      dict(by_epoch=True, max_epochs=1)))


# ---- crossover --------------------------------------------------------------------

def test_crossover_takes_each_choice_from_the_second_parent_with_prob():
    first = {f'module_{i}': 'a' for i in range(400)}
    second = {f'module_{i}': 'b' for i in range(400)}
    np.random.seed(0)
    assert crossover(first, second, prob=0.) == first
    assert crossover(first, second, prob=1.) == second
    child = crossover(first, second, prob=0.25)
    assert 70 <= list(child.values()).count('b') <= 130
    assert first == {f'module_{i}': 'a' for i in range(400)}  # parents untouched
    with pytest.raises(ValueError, match=r'probability must be a number in \[0, 1\], got 2'):
        crossover(first, second, prob=2)
    with pytest.raises(KeyError, match=r"groups \['module_x'\] are in only one"):
        crossover(first, {**second, 'module_x': 'b'})


# ---- Candidates -------------------------------------------------------------------

def test_candidates_keep_subnets_scores_and_resources():
    candidates = Candidates([{'module_0': 'shuffle_3x3', 'value_1': 4},
                             {'module_0': 'shuffle_7x7', 'value_1': 2}])
    assert candidates.scores == [-1, -1]  # not measured yet
    candidates.set_score(0, 70.5)
    candidates.set_score(1, 80.25)
    candidates.update_resources([dict(flops=1.5, params=0.2, latency_stats={})], start=1)
    candidates.sort_by('score')
    assert candidates.subnets == [{'module_0': 'shuffle_7x7', 'value_1': 2},
                                  {'module_0': 'shuffle_3x3', 'value_1': 4}]
    assert candidates.resources('flops') == [1.5, -1]
    copied = Candidates(candidates)  # items keep their figures
    assert copied.scores == [80.25, 70.5] and copied.data == candidates.data
    with pytest.raises(KeyError, match=r"unknown indicator 'acc'; valid: flops, params"):
        candidates.resources('acc')


def test_candidate_keys_are_parsed_as_data_never_run():
    # MMRazor keyed items by str(dict) and read them back with eval()
    legacy = Candidates([{"{'module_0': 'shuffle_5x5'}": {'score': 60.}}])
    assert legacy.subnets == [{'module_0': 'shuffle_5x5'}]
    assert legacy.resources('params') == [0.]
    with pytest.raises(ValueError, match=r'is not a subnet key'):
        Candidates([{"__import__('os').system('true')": {'score': 1.}}])


# ---- check_subnet_resources --------------------------------------------------------

def test_check_subnet_resources_compares_the_static_subnet(runner):
    model = runner.model
    estimator = TASK_UTILS.build(dict(type='mmrazor.ResourceEstimator',
                                      input_shape=(1, 3, 28, 28)))
    subnet = model.mutator.min_choices
    passed, results = check_subnet_resources(model, subnet, estimator, dict(flops=1.))
    assert passed and 0.15 < results['flops'] < 0.3
    assert check_subnet_resources(model, subnet, estimator,
                                  dict(flops=(results['flops'] + 0.001, 1.)))[0] is False
    assert check_subnet_resources(model, subnet, estimator,
                                  dict(params=results['params']))[0] is True  # ends included
    assert check_subnet_resources(model, subnet, estimator, None) == (True, {})
    with pytest.raises(KeyError, match=r"'mflops', which the resource estimator cannot "
                                       r'measure; valid keys: flops, params, latency'):
        check_subnet_resources(model, subnet, estimator, dict(mflops=1.))
    with pytest.raises(ValueError, match=r'low <= high'):
        check_constraints_range(dict(flops=(2., 1.)))


# ---- CalibrateBNMixin --------------------------------------------------------------

class Calibrator(CalibrateBNMixin):

    def __init__(self, runner: Runner) -> None:
        self.runner = runner


def test_bn_statistics_become_the_average_over_the_samples(runner):
    model = runner.model
    random.seed(1)
    model.mutator.set_choices(model.mutator.sample_choices())
    block = model.architecture.backbone.layers[0][0]
    unused = [c for c in block.choices if c != block.current_choice][0]
    unused_bn = [m for m in block._candidates[unused].modules()
                 if isinstance(m, torch.nn.BatchNorm2d)][0]
    untouched = unused_bn.running_mean.clone()
    stem_bn = model.architecture.backbone.conv1.bn
    seen = []
    handle = stem_bn.register_forward_hook(lambda m, args, out: seen.append(args[0]))
    batches = iter(runner.train_dataloader)
    first = next(batches)
    second = {k: v[:4] for k, v in next(batches).items()}
    model.train()
    with torch.no_grad():
        model.test_step(first)
        model.test_step(second)
    handle.remove()
    mean = (seen[0].mean((0, 2, 3)) * 16 + seen[1].mean((0, 2, 3)) * 4) / 20
    var = (seen[0].var((0, 2, 3)) * 16 + seen[1].var((0, 2, 3)) * 4) / 20
    model.eval()
    Calibrator(runner).calibrate_bn_statistics(runner.train_dataloader, 20)
    assert not model.training  # the mode is restored
    torch.testing.assert_close(stem_bn.running_mean, mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(stem_bn.running_var, var, rtol=1e-5, atol=1e-6)
    assert torch.equal(unused_bn.running_mean, untouched)  # off the chosen path
    with pytest.raises(ValueError, match='calibrate_sample_num must be > 0'):
        Calibrator(runner).calibrate_bn_statistics(runner.train_dataloader, 0)

"""The pruning benchmarks run as a user runs them, on one small model each, and write
the JSON fields the docs' tables are made from."""
import argparse
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import torch.nn as nn

from ..conftest import REPO_ROOT

BENCHMARKS = osp.join(REPO_ROOT, 'benchmarks')
HAS_TP = importlib.util.find_spec('torch_pruning') is not None
sys.path.insert(0, BENCHMARKS)
import pruning_coverage  # noqa: E402
import pruning_speed  # noqa: E402


def run_script(name: str, *args: str) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, osp.join(BENCHMARKS, name), *args], cwd=REPO_ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_coverage_prunes_exports_and_compares_with_torch_pruning(tmp_path):
    out = str(tmp_path / 'coverage.json')
    stdout = run_script('pruning_coverage.py', '--models', 'resnet18', '--out', out)
    report = json.load(open(out))
    assert 'load_average_at_start' in report['meta']
    [row] = report['results']
    ours = row['mmrazor']
    assert ours['ok'] and row['model'] == 'resnet18' and row['input'] == [1, 3, 224, 224]
    assert ours['units'] == 12 and ours['layers_pruned'] == 20  # all but the classifier
    # every unit loses 20-50 % of its channels: FLOPs fall to roughly 0.25-0.64
    assert 0.25 < ours['flops_ratio'] < 0.7 and ours['mflops_before'] > 1800
    assert ours['max_abs_diff'] <= 1e-5 and ours['trace_s'] > 0
    theirs = row['torch_pruning']
    if HAS_TP:
        assert theirs['ok'] and theirs['shapes_kept'] and theirs['layers_pruned'] == 20
        assert 0.25 < theirs['flops_ratio'] < 0.7
    else:
        assert theirs['ok'] is None and 'pip install torch-pruning' in theirs['error']
    assert '| resnet18 | 20/21 (' in stdout  # the docs' markdown table
    assert '| torchvision | 1 | 1 |' in stdout


def test_coverage_unknown_model_names_the_closest():
    env = dict(os.environ, PYTHONPATH=REPO_ROOT)
    proc = subprocess.run([sys.executable, osp.join(BENCHMARKS, 'pruning_coverage.py'),
                           '--models', 'resnet_18'], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "unknown model 'resnet_18'; closest: resnet18" in \
        proc.stderr


def test_a_dead_worker_costs_only_its_model(tmp_path, monkeypatch):
    """A worker killed (e.g. out of memory) on a model: that model gets a row with the
    reason, the sweep goes on with the next."""
    out = str(tmp_path / 'coverage.json')
    calls = []

    def fake_run(command, env):
        models = command[command.index('--models') + 1:]
        calls.append(models)
        if models[0] == 'alexnet':  # dies on its first model
            return subprocess.CompletedProcess(command, -9)
        for model in models:
            pruning_coverage.add_row(out, dict(model=model, group='torchvision'))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(pruning_coverage.subprocess, 'run', fake_run)
    namespace = argparse.Namespace(out=out, seed=0, timeout=10, resume=False,
                                   max_memory_gb=4.0)
    pruning_coverage.save(out, dict(results=[]))
    pruning_coverage.sweep({'alexnet': 'torchvision', 'vgg11': 'torchvision'}, namespace)
    rows = {r['model']: r for r in json.load(open(out))['results']}
    assert calls == [['alexnet', 'vgg11'], ['vgg11']]
    assert 'exit code -9' in rows['alexnet']['mmrazor']['error']
    assert 'vgg11' in rows and 'mmrazor' not in rows['vgg11']


class TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3)
        self.cls = nn.Conv2d(8, 5, 1)
        self.box = nn.Conv2d(8, 4, 1)

    def forward(self, x):
        x = self.stem(x).relu()
        return [self.cls(x), self.box(x).flatten(1)]


def test_torch_pruning_ignores_the_layers_that_make_outputs():
    model = TwoHeads()
    ignored = pruning_coverage.output_layers(model, torch.rand(1, 3, 8, 8), num_classes=None)
    assert {id(m) for m in ignored} == {id(model.cls), id(model.box)}


def test_bisect_finds_the_closest_argument():
    calls = []

    def flops_at(keep):
        calls.append(keep)
        return 100 * keep ** 2

    keep = pruning_speed.bisect(flops_at, 50, 0.3, 1.0, steps=12)
    assert abs(keep - 0.5 ** 0.5) < 1e-3 and len(calls) == 12


def test_tracer_time_reports_medians_and_ratio(tmp_path):
    out = str(tmp_path / 'tracer.json')
    stdout = run_script('pruning_tracer_time.py', '--models', 'resnet18', '--repeats', '2',
                        '--out', out)
    [result] = json.load(open(out))['results']
    times = result['times']
    # timings only: which is faster is measured by the benchmark, not asserted here
    assert times['mmrazor ChannelAnalyzer']['median'] > 0 and times['plain forward']['median'] > 0
    if HAS_TP:
        theirs = times['Torch-Pruning DependencyGraph']['median']
        ratio = result['ratio_ours_theirs']
        assert ratio == pytest.approx(times['mmrazor ChannelAnalyzer']['median'] / theirs)
        assert 'mmrazor / Torch-Pruning' in stdout
        if ratio > 1:  # slower: where the time goes is reported
            assert result['profile_top'] and 'trace' in ' '.join(result['stages_s'])


def test_speed_prunes_to_half_the_flops_in_multiples_of_8(tmp_path):
    out = str(tmp_path / 'speed.json')
    run_script('pruning_speed.py', '--quick', '--out', out)
    report = json.load(open(out))
    models = report['models']
    assert models['mmrazor']['flops_ratio'] == pytest.approx(0.5, abs=0.06)
    assert models['mmrazor']['convs_not_multiple_of_8'] == 0
    assert models['mmrazor']['mparams'] < models['original']['mparams']
    names = {row['model'] for row in report['results']}
    assert names == ({'original', 'mmrazor', 'Torch-Pruning'} if HAS_TP else
                     {'original', 'mmrazor'})
    for row in report['results']:
        assert row['latency_ms'] > 0 and row['batch'] == 1 and row['runtime'] == 'eager'
        assert row['efficiency'] == pytest.approx(
            row['speedup'] * models[row['model']]['flops_ratio'])
    assert 'load_average_before' in report['meta']


def test_speed_divisor_and_channels_last(tmp_path):
    out = str(tmp_path / 'speed.json')
    run_script('pruning_speed.py', '--quick', '--divisor', '32', '--channels-last',
               '--out', out)
    report = json.load(open(out))
    assert report['meta']['divisor'] == 32 and report['meta']['channels_last'] is True
    for name in ('mmrazor', 'Torch-Pruning') if HAS_TP else ('mmrazor', ):
        assert report['models'][name]['convs_not_multiple_of_divisor'] == 0, name
    assert report['models']['mmrazor']['mparams'] < report['models']['original']['mparams']


def test_interleaved_timing_settles_each_block_untimed():
    """``settle`` extra calls run before each timed block and are not in its time."""
    calls = {'slow': [], 'fast': []}

    def runner(name):
        def run():
            calls[name].append(name)
        return run

    times = pruning_speed.time_interleaved({n: runner(n) for n in calls}, repeats=3,
                                           inner=2, warmup=1, settle=4)
    # warmup 1 + 3 rounds x (4 settle + 2 timed), each runner
    assert {n: len(c) for n, c in calls.items()} == {'slow': 19, 'fast': 19}
    assert {n: len(t) for n, t in times.items()} == {'slow': 3, 'fast': 3}
    calls = {'slow': [], 'fast': []}
    pruning_speed.time_interleaved({n: runner(n) for n in calls}, repeats=3, inner=2,
                                   warmup=1)
    assert len(calls['slow']) == 7  # the default settles nothing


def test_interleaved_timing_leaves_the_settle_calls_out_of_the_time():
    import time
    count = [0]

    def run():  # odd calls (the settle ones here) are slow
        count[0] += 1
        if count[0] % 2:
            time.sleep(0.05)

    times = pruning_speed.time_interleaved({'model': run}, repeats=3, inner=1, warmup=0,
                                           settle=1)
    assert max(times['model']) < 0.025

"""Tracer time: mmrazor's channel analysis beside Torch-Pruning's dependency graph.

On torchvision ResNet-50 (224x224, batch 1, one thread) this times

* mmrazor: ``ChannelAnalyzer(tracer_type='FxTracer').analyze(model)`` (trace + channel
  analysis, the unit configs a ``ChannelMutator`` is built from),
* Torch-Pruning 1.6.1: ``DependencyGraph().build_dependency(model, example_inputs)``
  (``pip install torch-pruning==1.6.1``; skipped, with a note, when missing),
* a plain forward pass (both tools run the model once),

interleaved, ``--repeats`` times, and reports medians, IQRs and the ratio ours/theirs.
Where ours is slower, one cProfile run of ``analyze`` shows where the time goes.

    python benchmarks/pruning_tracer_time.py [--models resnet50] [--repeats 7]
"""
import argparse
import cProfile
import importlib.util
import json
import os
import os.path as osp
import pstats
import statistics
import time
import warnings
from typing import Callable, Dict, List

import torch
import torch.nn as nn
import torchvision

TP_INSTALL = 'pip install torch-pruning==1.6.1'


def tools(x: torch.Tensor) -> Dict[str, Callable[[nn.Module], object]]:
    from mmrazor.models.task_modules.tracer import ChannelAnalyzer
    shape = tuple(x.shape)
    found: Dict[str, Callable[[nn.Module], object]] = {
        'plain forward': lambda model: forward(model, x),
        'mmrazor ChannelAnalyzer': lambda model: ChannelAnalyzer(
            shape, tracer_type='FxTracer').analyze(model),
    }
    if importlib.util.find_spec('torch_pruning') is not None:
        import torch_pruning as tp
        found['Torch-Pruning DependencyGraph'] = lambda model: \
            tp.DependencyGraph().build_dependency(model, example_inputs=x)
    return found


def forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)


def quartiles(values: List[float]) -> Dict[str, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method='inclusive')
    return dict(median=median, iqr=q3 - q1, q1=q1, q3=q3)


def profile(func: Callable[[], object], top: int) -> List[Dict]:
    """The ``top`` functions by own time (with their cumulative time) in one run."""
    profiler = cProfile.Profile()
    profiler.enable()
    func()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    total = sum(entry[2] for entry in stats.values())
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
    return [dict(function=f'{osp.relpath(f) if f.startswith("/") else f}:{line}({name})',
                 calls=entry[1], own_s=entry[2], cumulative_s=entry[3],
                 own_share=entry[2] / total)
            for (f, line, name), entry in rows]


def by_stage(func: Callable[[], object]) -> Dict[str, float]:
    """Cumulative seconds of the analysis stages (trace, channel flow, units)."""
    profiler = cProfile.Profile()
    profiler.enable()
    func()
    profiler.disable()
    wanted = {'trace_model': 'trace (run the model under torch.fx)',
              'follow_channels': 'channel flow', 'build_unit_configs': 'unit configs'}
    stages = {}
    for (_, _, name), entry in pstats.Stats(profiler).stats.items():
        if name in wanted:
            stages[wanted[name]] = stages.get(wanted[name], 0.0) + entry[3]
    return stages


def measure(model_name: str, repeats: int, threads: int) -> Dict:
    torch.manual_seed(0)
    model = torchvision.models.get_model(model_name, weights=None).eval()
    x = torch.rand(1, 3, 224, 224)
    funcs = tools(x)
    times: Dict[str, List[float]] = {name: [] for name in funcs}
    for func in funcs.values():  # warm-up: first calls pay for lazy imports and caches
        func(model)
    for _ in range(repeats):  # interleaved: load changes hit every tool alike
        for name, func in funcs.items():
            start = time.perf_counter()
            func(model)
            times[name].append(time.perf_counter() - start)
    result = dict(model=model_name, threads=threads, repeats=repeats,
                  times={name: dict(quartiles(values), runs=values)
                         for name, values in times.items()})
    ours = result['times']['mmrazor ChannelAnalyzer']['median']
    theirs = result['times'].get('Torch-Pruning DependencyGraph', {}).get('median')
    result['ratio_ours_theirs'] = ours / theirs if theirs else None
    if theirs is None:
        result['note'] = f'Torch-Pruning not installed ({TP_INSTALL})'
    elif ours > theirs:  # where does our time go?
        analyze = funcs['mmrazor ChannelAnalyzer']
        result['stages_s'] = by_stage(lambda: analyze(model))
        result['profile_top'] = profile(lambda: analyze(model), top=15)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=['resnet50'],
                        help='torchvision model names')
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', default=osp.join(osp.dirname(__file__),
                                                  'pruning_tracer_time.json'))
    args = parser.parse_args()
    warnings.filterwarnings('ignore')
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    results = [measure(name, args.repeats, args.threads) for name in args.models]
    header = f'{"model":12} {"tool":30} {"median s":>9} {"IQR s":>7}'
    print(header + '\n' + '-' * len(header))
    for result in results:
        for tool, stats in result['times'].items():
            print(f'{result["model"]:12} {tool:30} {stats["median"]:9.3f} {stats["iqr"]:7.3f}')
        if result['ratio_ours_theirs'] is not None:
            print(f'{result["model"]}: mmrazor / Torch-Pruning = '
                  f'{result["ratio_ours_theirs"]:.2f} (goal <= 1.0)')
        for stage, seconds in result.get('stages_s', {}).items():
            print(f'  under cProfile, {stage}: {seconds:.3f} s')
        for entry in result.get('profile_top', [])[:8]:
            print(f'  {entry["own_share"]:5.1%} own {entry["own_s"]:.3f} s '
                  f'{entry["calls"]:>7} calls  {entry["function"]}')
        print(result.get('note', ''))
    meta = dict(torch=torch.__version__, load_average_before=load_before,
                load_average_after=os.getloadavg(), input_shape=[1, 3, 224, 224],
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    with open(args.out, 'w') as file:
        json.dump(dict(meta=meta, results=results), file, indent=1)


if __name__ == '__main__':
    main()

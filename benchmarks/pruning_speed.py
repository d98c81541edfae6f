"""Real speed of a pruned model: does halving the FLOPs halve the CPU latency?

torchvision ResNet-50 (``--model``) is pruned to about 50 % of its FLOPs with L1 units
(one ratio for every unit, found by bisection; widths rounded to multiples of 8 by the
unit's ``divisor=8``) and exported as a static model (``export_fix_subnet(...,
slice_weight=True)``). Torch-Pruning 1.6.1's L1 ``MagnitudePruner`` (``round_to=8``) is
bisected to the same FLOPs (``pip install torch-pruning==1.6.1``; skipped, with a note,
when missing). The original and both pruned models are then timed in the same run,
interleaved, after warm-up, at batch 1 and 32, in eager torch (2 threads) and in
onnxruntime (2 threads, each model exported with ``mmrazor.structures.export_onnx``).

Reported per model: median latency and IQR, speedup over the original, FLOPs ratio and
*efficiency* = speedup / (original FLOPs / model FLOPs) (goal >= 0.9: the latency falls
as much as the FLOPs).

``--divisor 32`` rounds the widths of both tools to multiples of 32 instead of 8;
``--channels-last`` runs every eager model (the original too) in channels-last memory
format, where oneDNN's convs are fastest at batch 1.

    python benchmarks/pruning_speed.py [--repeats 9] [--batches 1 32] [--divisor 8]
        [--channels-last] [--quick]
"""
import argparse
import copy
import importlib.util
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time
import warnings
from typing import Callable, Dict, List, Tuple

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from pruning_coverage import Holder, prepare_l1, tp_prune  # noqa: E402

TP_INSTALL = 'pip install torch-pruning==1.6.1'
Shape = Tuple[int, int, int, int]


def mflops(model: nn.Module, shape: Shape) -> float:
    from mmrazor.models.task_modules.estimators import get_model_flops_params
    return get_model_flops_params(model, input_shape=shape)[0]


def bisect(flops_at: Callable[[float], float], target: float, low: float, high: float,
           steps: int) -> float:
    """The argument in [low, high] whose FLOPs come closest to ``target``, for a
    ``flops_at`` that grows with its argument."""
    best, best_gap = high, float('inf')
    for _ in range(steps):
        mid = (low + high) / 2
        flops = flops_at(mid)
        if abs(flops - target) < best_gap:
            best, best_gap = mid, abs(flops - target)
        low, high = (mid, high) if flops < target else (low, mid)
    return best


def prune_mmrazor(model: nn.Module, shape: Shape, target_ratio: float,
                  steps: int, divisor: int = 8) -> Tuple[nn.Module, float]:
    """A static copy of ``model`` pruned to about ``target_ratio`` of its FLOPs; the
    uniform keep-ratio used."""
    from mmrazor.models.mutators import ChannelMutator
    from mmrazor.structures import export_fix_subnet
    model = copy.deepcopy(model)
    mutator: ChannelMutator = prepare_l1(model, shape, divisor=divisor)[0]
    names = list(mutator.choice_template)
    base = mflops(model, shape)

    def flops_at(keep: float) -> float:
        mutator.set_choices({name: keep for name in names})
        return mflops(model, shape)

    keep = bisect(flops_at, target_ratio * base, 0.3, 1.0, steps)
    mutator.set_choices({name: keep for name in names})
    with torch.no_grad():
        _, static = export_fix_subnet(Holder(model, mutator), 'mutator', slice_weight=True)
    return static.eval(), keep


def prune_torch_pruning(model: nn.Module, shape: Shape, target_mflops: float,
                        steps: int, round_to: int = 8) -> Tuple[nn.Module, float]:
    """A copy of ``model`` pruned by Torch-Pruning (uniform ratio, ``round_to``) to
    about ``target_mflops``; the pruning ratio used."""
    x = torch.rand(shape)

    def pruned(ratio: float) -> nn.Module:
        copied = copy.deepcopy(model)
        tp_prune(copied, x, lambda _: ratio, num_classes=1000, round_to=round_to)
        return copied.eval()

    # FLOPs fall as the pruning ratio grows: bisect on the kept share 1 - ratio
    keep = bisect(lambda k: mflops(pruned(1 - k), shape), target_mflops, 0.3, 1.0, steps)
    return pruned(1 - keep), 1 - keep


def off_multiple(model: nn.Module, multiple: int = 8) -> List[str]:
    """Conv layers whose output channels are not a multiple of ``multiple``."""
    return [name for name, m in model.named_modules()
            if isinstance(m, nn.Conv2d) and m.out_channels % multiple]


def eager_runner(model: nn.Module, x: torch.Tensor,
                 channels_last: bool = False) -> Callable[[], object]:
    if channels_last:
        model = copy.deepcopy(model).to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def run() -> object:
        with torch.no_grad():
            return model(x)
    return run


def onnx_runner(model: nn.Module, x: torch.Tensor, directory: str,
                name: str) -> Callable[[], object]:
    import onnxruntime as ort

    from mmrazor.structures import export_onnx
    path = osp.join(directory, f'{name}_b{x.shape[0]}.onnx')
    export_onnx(model, (x,), path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])
    feed = {session.get_inputs()[0].name: x.numpy()}
    expected = eager_runner(model, x)()
    got = torch.from_numpy(session.run(None, feed)[0])
    diff = (got - expected).abs().max().item()
    if diff > 1e-3 * max(1.0, expected.abs().max().item()):
        raise RuntimeError(f'ONNX {name} differs from eager by {diff:.2e}')
    return lambda: session.run(None, feed)


def time_interleaved(runners: Dict[str, Callable[[], object]], repeats: int,
                     inner: int, warmup: int, settle: int = 0) -> Dict[str, List[float]]:
    """Seconds per call of each runner: ``repeats`` rounds, each runner once per round
    (the mean of ``inner`` calls), so load changes hit every model alike; ``settle``
    untimed calls before each timed block let the previous runtime's threads go idle
    and bring this one's data back into the caches."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: Dict[str, List[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            for _ in range(settle):
                run()
            start = time.perf_counter()
            for _ in range(inner):
                run()
            times[name].append((time.perf_counter() - start) / inner)
    return times


def quartiles(values: List[float]) -> Dict[str, float]:
    q1, median, q3 = statistics.quantiles(values, n=4, method='inclusive')
    return dict(median=median, iqr=q3 - q1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', default='resnet50', help='a torchvision classifier')
    parser.add_argument('--size', type=int, default=224, help='input height and width')
    parser.add_argument('--target', type=float, default=0.5, help='FLOPs ratio to reach')
    parser.add_argument('--batches', type=int, nargs='+', default=[1, 32])
    parser.add_argument('--repeats', type=int, default=9)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--bisect-steps', type=int, default=10)
    parser.add_argument('--divisor', type=int, default=8,
                        help='widths rounded to multiples of it (both tools)')
    parser.add_argument('--channels-last', action='store_true',
                        help='eager models run in channels-last memory format')
    parser.add_argument('--runtimes', nargs='+', default=['eager', 'onnxruntime'],
                        choices=['eager', 'onnxruntime'])
    parser.add_argument('--quick', action='store_true',
                        help='a smoke test: resnet18 at 64x64, batch 1, 3 repeats, 4 '
                        'bisection steps, eager')
    parser.add_argument('--out', default=osp.join(osp.dirname(__file__), 'pruning_speed.json'))
    args = parser.parse_args()
    if args.quick:
        args.model, args.size, args.batches = 'resnet18', 64, [1]
        args.repeats, args.bisect_steps = 3, 4
        args.runtimes = ['eager']
    warnings.filterwarnings('ignore')
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    shape = (1, 3, args.size, args.size)
    torch.manual_seed(0)
    original = torchvision.models.get_model(args.model, weights=None).eval()
    models = {'original': original}
    info: Dict[str, Dict] = {'original': dict(mflops=mflops(original, shape))}
    models['mmrazor'], keep = prune_mmrazor(original, shape, args.target, args.bisect_steps,
                                            args.divisor)
    info['mmrazor'] = dict(mflops=mflops(models['mmrazor'], shape), keep_ratio=keep)
    if importlib.util.find_spec('torch_pruning') is not None:
        models['Torch-Pruning'], ratio = prune_torch_pruning(
            original, shape, info['mmrazor']['mflops'], args.bisect_steps, args.divisor)
        info['Torch-Pruning'] = dict(mflops=mflops(models['Torch-Pruning'], shape),
                                     pruning_ratio=ratio)
    for name, model in models.items():
        info[name].update(mparams=sum(p.numel() for p in model.parameters()) / 1e6,
                          flops_ratio=info[name]['mflops'] / info['original']['mflops'],
                          convs_not_multiple_of_8=len(off_multiple(model)),
                          convs_not_multiple_of_divisor=len(off_multiple(model, args.divisor)))
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for batch in args.batches:
            x = torch.rand(batch, *shape[1:])
            for runtime in args.runtimes:
                runners = {name: (eager_runner(model, x, args.channels_last)
                                  if runtime == 'eager' else
                                  onnx_runner(model, x, directory, name))
                           for name, model in models.items()}
                inner = max(1, 8 // batch)
                times = time_interleaved(runners, args.repeats, inner,
                                         warmup=2 if batch > 1 else 5)
                base = statistics.median(times['original'])
                for name, values in times.items():
                    stats = quartiles(values)
                    speedup = base / stats['median']
                    results.append(dict(
                        model=name, batch=batch, runtime=runtime, latency_ms=stats['median'] * 1e3,
                        iqr_ms=stats['iqr'] * 1e3, speedup=speedup,
                        efficiency=speedup * info[name]['flops_ratio'], runs_ms=[
                            v * 1e3 for v in values]))
    print(f'{"model":14} {"MFLOPs":>8} {"ratio":>6} {"M params":>9}  widths %8 != 0')
    for name, item in info.items():
        print(f'{name:14} {item["mflops"]:8.1f} {item["flops_ratio"]:6.3f} '
              f'{item["mparams"]:9.2f}  {item["convs_not_multiple_of_8"]}')
    header = (f'{"runtime":12} {"batch":>5} {"model":14} {"ms":>9} {"IQR ms":>8} '
              f'{"speedup":>8} {"efficiency":>10}')
    print('\n' + header + '\n' + '-' * len(header))
    for row in results:
        print(f'{row["runtime"]:12} {row["batch"]:5} {row["model"]:14} {row["latency_ms"]:9.2f} '
              f'{row["iqr_ms"]:8.2f} {row["speedup"]:8.2f} {row["efficiency"]:10.2f}')
    if 'Torch-Pruning' not in models:
        print(f'Torch-Pruning not installed ({TP_INSTALL}): its rows are missing')
    meta = dict(model=args.model, torch=torch.__version__, threads=args.threads,
                repeats=args.repeats, divisor=args.divisor, channels_last=args.channels_last,
                input_shape=list(shape), target_flops_ratio=args.target,
                load_average_before=load_before, load_average_after=os.getloadavg(),
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    with open(args.out, 'w') as file:
        json.dump(dict(meta=meta, models=info, results=results), file, indent=1)


if __name__ == '__main__':
    main()

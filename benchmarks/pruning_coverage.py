"""Pruning coverage: which models mmrazor and Torch-Pruning prune, and whether it works.

For every torchvision classifier (``torchvision.models.list_models``) and a set of
mmpretrain classifiers, mmdet detectors and mmseg segmentors (built from their
configs, no weights), each model through both tools in the same process:

* mmrazor: trace (``ChannelMutator`` with ``L1MutableChannelUnit``, ``ChannelAnalyzer``
  with ``tracer_type='FxTracer'``), prune every unit by a random 20-50 % (seeded),
  run the pruned (dynamic) model, export the static model (``export_fix_subnet(...,
  slice_weight=True)``), compare the two outputs (every tensor leaf, ``mode='tensor'``
  for OpenMMLab models), count FLOPs and params before and after;
* Torch-Pruning 1.6.1 (``pip install torch-pruning==1.6.1``; its column is skipped,
  with a note, when it is missing): ``MagnitudePruner`` (L1) with a random 20-50 % ratio
  per layer, the layers that produce the model's outputs ignored, on the same input;
  success or the exception, whether the pruned model runs and keeps its output shapes,
  FLOPs after (its ``count_ops_and_params``, and ours for the same yardstick).

Batch 1, one thread. Models run in a worker process that is restarted, skipping the
model, if it dies (out of memory); a model over ``--timeout`` keeps what finished; the
JSON is rewritten (atomically) after every model, so a long sweep can be watched and
``--resume``d. ``--table-only`` prints the markdown tables of an existing JSON.

    python benchmarks/pruning_coverage.py [--groups torchvision mmpretrain mmdet mmseg]
        [--models resnet18 mmdet-retinanet ...] [--quick] [--timeout S] [--resume]
        [--out JSON] [--table-only]
"""
import argparse
import contextlib
import gc
import json
import os
import os.path as osp
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

GROUPS = ('torchvision', 'mmpretrain', 'mmdet', 'mmseg')
MM_CONFIGS = {
    'mmpretrain-resnet50': 'mmpretrain::resnet/resnet50_8xb32_in1k.py',
    'mmpretrain-resnext50': 'mmpretrain::resnext/resnext50-32x4d_8xb32_in1k.py',
    'mmpretrain-mobilenet_v2': 'mmpretrain::mobilenet_v2/mobilenet-v2_8xb32_in1k.py',
    'mmpretrain-mobilenet_v3_large':
        'mmpretrain::mobilenet_v3/mobilenet-v3-large_8xb128_in1k.py',
    'mmpretrain-shufflenet_v1': 'mmpretrain::shufflenet_v1/shufflenet-v1-1x_16xb64_in1k.py',
    'mmpretrain-shufflenet_v2': 'mmpretrain::shufflenet_v2/shufflenet-v2-1x_16xb64_in1k.py',
    'mmpretrain-regnetx_400mf': 'mmpretrain::regnet/regnetx-400mf_8xb128_in1k.py',
    'mmpretrain-efficientnet_b0': 'mmpretrain::efficientnet/efficientnet-b0_8xb32_in1k.py',
    'mmpretrain-convnext_tiny': 'mmpretrain::convnext/convnext-tiny_32xb128_in1k.py',
    'mmpretrain-vit_b16': 'mmpretrain::vision_transformer/vit-base-p16_64xb64_in1k.py',
    'mmpretrain-deit_tiny': 'mmpretrain::deit/deit-tiny_4xb256_in1k.py',
    'mmpretrain-swin_tiny': 'mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py',
    'mmdet-retinanet': 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    'mmdet-fcos': 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'mmdet-faster_rcnn': 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mmdet-mask_rcnn': 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    'mmdet-yolox_s': 'mmdet::yolox/yolox_s_8xb8-300e_coco.py',
    'mmdet-rtmdet_s': 'mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py',
    'mmseg-fcn': 'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg-pspnet': 'mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg-deeplabv3plus':
        'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
    'mmseg-segformer': 'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
}
DET_SEG_SIZE = 320
HEAVY_GFLOPS = 12  # torchvision's figure (at each model's own input size)
PRUNE_RANGE = (0.2, 0.5)  # fraction of each unit's / layer's channels removed
TOLERANCE = 1e-5  # dynamic vs static: max abs diff <= TOLERANCE * max(1, max |output|)
TP_INSTALL = 'pip install torch-pruning==1.6.1'
Row = Dict[str, Any]


# ---- models ------------------------------------------------------------------------

def model_groups(groups: List[str]) -> Dict[str, str]:
    """``{model id: group}`` of every model of ``groups``, in sweep order: cheap
    torchvision models, the OpenMMLab ones, then torchvision models of over
    ``HEAVY_GFLOPS`` (so that a long sweep has most rows early)."""
    import torchvision
    light, heavy = {}, {}
    if 'torchvision' in groups:
        for name in torchvision.models.list_models(module=torchvision.models):
            gflops = torchvision.models.get_model_weights(name).DEFAULT.meta['_ops']
            (heavy if gflops > HEAVY_GFLOPS else light)[name] = gflops
    found = {name: 'torchvision' for name in sorted(light, key=light.get)}
    for model_id in MM_CONFIGS:
        group = model_id.split('-')[0]
        if group in groups:
            found[model_id] = group
    found.update({name: 'torchvision' for name in sorted(heavy, key=heavy.get)})
    return found


def input_shape(model_id: str) -> Tuple[int, int, int, int]:
    if model_id.startswith(('mmdet', 'mmseg')):
        return (1, 3, DET_SEG_SIZE, DET_SEG_SIZE)
    return (1, 3, 299, 299) if 'inception' in model_id else (1, 3, 224, 224)


def build(model_id: str) -> nn.Module:
    """The model, randomly initialised, in eval mode."""
    if model_id not in MM_CONFIGS:
        import torchvision
        return torchvision.models.get_model(model_id, weights=None).eval()
    from mmengine.hub import get_config

    from mmrazor.utils import build_model_from_config
    cfg = get_config(MM_CONFIGS[model_id])
    if isinstance(cfg.model.get('backbone'), dict):
        cfg.model.backbone.init_cfg = None
    return build_model_from_config(cfg).eval()


def demo_data(model: nn.Module, model_id: str) -> Any:
    """What the model runs on: a tensor, or ``model(**data)`` with ``mode='tensor'``."""
    shape = input_shape(model_id)
    if model_id not in MM_CONFIGS:
        return torch.rand(shape, generator=torch.Generator().manual_seed(0))
    from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
    return DefaultDemoInput(shape).get_data(model)


def forward(model: nn.Module, data: Any) -> Any:
    return model(**data) if isinstance(data, dict) else model(data)


def leaves(output: Any) -> List[torch.Tensor]:
    """The tensors of a (nested) output, in order."""
    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        return [t for item in output for t in leaves(item)]
    return []


def out_widths(model: nn.Module) -> Dict[str, int]:
    """Output channels of every conv and linear layer, by name."""
    widths = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            widths[name] = module.out_channels
        elif isinstance(module, nn.Linear):
            widths[name] = module.out_features
    return widths


def narrowed(before: Dict[str, int], model: nn.Module) -> int:
    """How many conv/linear layers have fewer output channels than ``before``."""
    after = out_widths(model)
    return sum(1 for name, width in before.items() if after.get(name, width) < width)


def our_flops(model: nn.Module, model_id: str) -> Tuple[float, float]:
    """(MFLOPs, M params) by mmrazor's counter (a model's demo input for mm models)."""
    from mmrazor.models.task_modules.estimators import get_model_flops_params
    return get_model_flops_params(model, input_shape=input_shape(model_id))


def error_text(error: BaseException) -> str:
    text = f'{type(error).__name__}: {error}'.replace('\n', ' ')
    return text[:300]


class Stage:
    """The step in progress, named in the failure reason."""

    def __init__(self, row: Row) -> None:
        self.row = row

    def __call__(self, name: str) -> None:
        self.row['stage'] = name


# ---- mmrazor -----------------------------------------------------------------------

class Holder(nn.Module):
    """``architecture`` + ``mutator``: what ``export_fix_subnet`` reads."""

    def __init__(self, architecture: nn.Module, mutator: nn.Module) -> None:
        super().__init__()
        self.architecture = architecture
        self.mutator = mutator


def prepare_l1(model: nn.Module, shape: Tuple[int, ...],
               divisor: int = 1) -> Tuple[nn.Module, List[str]]:
    """An L1 ``ChannelMutator`` (ratio choices, widths rounded to ``divisor``) prepared
    on ``model`` with a demo input of ``shape``, and the tracing warnings."""
    from mmrazor.models.mutators import ChannelMutator
    mutator = ChannelMutator(
        channel_unit_cfg=dict(type='L1MutableChannelUnit',
                              default_args=dict(choice_mode='ratio', divisor=divisor)),
        parse_cfg=dict(type='ChannelAnalyzer', demo_input=shape,
                       tracer_type='FxTracer'))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        mutator.prepare_from_supernet(model)
    notes = [str(w.message)[:300] for w in caught if 'could not be traced' in str(w.message)]
    return mutator, notes


def not_convertible(unit: nn.Module) -> str:
    """The layers of ``unit`` that have no dynamic op, with their full class names."""
    layers = {channel.name: type(channel.module) for channel in unit.channels
              if type(channel.module) not in unit.dynamic_ops}
    text = ', '.join(f'{name} ({cls.__module__}.{cls.__name__})'
                     for name, cls in layers.items())
    return (text or ', '.join(unit.unprunable_reasons()))[:200]


def frozen_reasons(model_id: str) -> str:
    """The commonest reasons ``ChannelAnalyzer`` gives for the channels it froze."""
    from collections import Counter

    from mmrazor.models.task_modules.tracer import ChannelAnalyzer
    analyzer = ChannelAnalyzer(input_shape(model_id), tracer_type='FxTracer')
    analyzer.analyze(build(model_id))
    counts = Counter(reason for _, _, reason in analyzer.report())
    return '; '.join(f'{n}x {reason}' for reason, n in counts.most_common(3))


def run_mmrazor(model_id: str, seed: int) -> Row:
    from mmrazor.structures import export_fix_subnet
    row: Row = {}
    stage = Stage(row)
    try:
        stage('build')
        model = build(model_id)
        data = demo_data(model, model_id)
        widths = out_widths(model)
        row['layers_total'] = len(widths)
        stage('flops before')
        row['mflops_before'], row['mparams_before'] = our_flops(model, model_id)
        stage('trace')
        start = time.perf_counter()
        mutator, row['untraced'] = prepare_l1(model, input_shape(model_id))
        row['trace_s'] = time.perf_counter() - start
        row['units'] = len(mutator.mutable_units)
        dropped = [unit for unit in mutator.units if not unit.is_mutable]
        row['units_not_convertible'] = len(dropped)
        if dropped:
            row['not_convertible_example'] = not_convertible(dropped[0])
        stage('prune')
        rng = random.Random(f'{seed}-{model_id}')
        mutator.set_choices({name: round(1 - rng.uniform(*PRUNE_RANGE), 4)
                             for name in mutator.choice_template})
        stage('pruned forward')
        with torch.no_grad():
            dynamic_out = leaves(forward(model, data))
        stage('export')
        with torch.no_grad():
            _, static = export_fix_subnet(Holder(model, mutator), 'mutator',
                                          slice_weight=True)
        stage('static forward')
        with torch.no_grad():
            static_out = leaves(forward(static, data))
        if [t.shape for t in dynamic_out] != [t.shape for t in static_out]:
            raise RuntimeError('the exported model returns other output shapes')
        row['max_abs_diff'] = max((a - b).abs().max().item()
                                  for a, b in zip(dynamic_out, static_out))
        row['output_scale'] = max(t.abs().max().item() for t in dynamic_out)
        row['rel_diff'] = row['max_abs_diff'] / max(row['output_scale'], 1e-30)
        row['layers_pruned'] = narrowed(widths, static)
        stage('flops after')
        row['mflops_after'], row['mparams_after'] = our_flops(static, model_id)
        row['flops_ratio'] = row['mflops_after'] / row['mflops_before']
        tolerance = TOLERANCE * max(1.0, row['output_scale'])
        row['ok'] = row['units'] > 0 and row['max_abs_diff'] <= tolerance
        if row['units'] == 0:
            row['error'] = 'no prunable unit: ' + (
                f'{len(dropped)} found, none convertible ({row["not_convertible_example"]})'
                if dropped else frozen_reasons(model_id))
        elif not row['ok']:
            row['error'] = (f'exported model differs: max abs diff {row["max_abs_diff"]:.2e}'
                            f' > {tolerance:.1e}')
        row.pop('stage')
    except Exception as error:  # a failure is a result: recorded with its reason
        row.update(ok=False, error=f'{row["stage"]}: {error_text(error)}')
    return row


# ---- Torch-Pruning -------------------------------------------------------------------

def output_layers(model: nn.Module, data: Any, num_classes: Optional[int]) -> List[nn.Module]:
    """The conv/linear layers whose output is a model output (as is, or viewed), plus
    torchvision's classifier layers (``num_classes`` outputs): what a Torch-Pruning
    user lists in ``ignored_layers``."""
    produced: Dict[int, Tuple[nn.Module, torch.Tensor]] = {}

    def record(module: nn.Module, _: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):  # kept alive, so no address is reused
            produced[output.data_ptr()] = (module, output)

    layers = [m for m in model.modules() if isinstance(m, (nn.modules.conv._ConvNd,
                                                           nn.Linear))]
    hooks = [m.register_forward_hook(record) for m in layers]
    try:
        with torch.no_grad():
            outputs = leaves(forward(model, data))
    finally:
        for hook in hooks:
            hook.remove()
    ignored = {id(produced[t.data_ptr()][0]): produced[t.data_ptr()][0] for t in outputs
               if t.data_ptr() in produced}
    for m in layers:
        width = m.out_features if isinstance(m, nn.Linear) else m.out_channels
        if width == num_classes:
            ignored[id(m)] = m
    return list(ignored.values())


def tp_prune(model: nn.Module, data: Any, ratios: Callable[[nn.Module], float],
             num_classes: Optional[int], round_to: Optional[int] = None) -> float:
    """Prune ``model`` in place with Torch-Pruning's L1 ``MagnitudePruner``; return the
    time taken by its dependency tracing (the pruner's construction)."""
    import torch_pruning as tp
    ignored = output_layers(model, data, num_classes)
    layers = [m for m in model.modules() if isinstance(m, (nn.modules.conv._ConvNd,
                                                           nn.Linear))
              and all(m is not i for i in ignored)]
    start = time.perf_counter()
    pruner = tp.pruner.MagnitudePruner(
        model, example_inputs=data, importance=tp.importance.MagnitudeImportance(p=1),
        pruning_ratio=0.0, pruning_ratio_dict={m: ratios(m) for m in layers},
        ignored_layers=ignored, round_to=round_to)
    trace_s = time.perf_counter() - start
    pruner.step()
    return trace_s


def tp_count(model: nn.Module, data: Any, row: Row) -> Optional[float]:
    """Torch-Pruning's own FLOPs (MACs) count, its notes to stdout dropped; None, with
    the error in ``row``, where its counter fails (the pruning is judged anyway)."""
    import torch_pruning as tp
    try:
        with open(os.devnull, 'w') as devnull, contextlib.redirect_stdout(devnull):
            return tp.utils.count_ops_and_params(model, data)[0]
    except Exception as error:
        row['tp_counter_error'] = error_text(error)
        return None


def run_torch_pruning(model_id: str, seed: int, mflops_before: Optional[float]) -> Row:
    row: Row = {}
    stage = Stage(row)
    try:
        stage('build')
        model = build(model_id)
        data = demo_data(model, model_id)
        widths = out_widths(model)
        with torch.no_grad():
            shapes = [t.shape for t in leaves(forward(model, data))]
        stage('flops before')
        row['mflops_before'] = mflops_before or our_flops(model, model_id)[0]
        tp_before = tp_count(model, data, row)
        stage('trace + prune')
        rng = random.Random(f'{seed}-{model_id}')
        num_classes = 1000 if model_id not in MM_CONFIGS else None
        row['trace_s'] = tp_prune(model, data, lambda m: rng.uniform(*PRUNE_RANGE),
                                  num_classes)
        row['layers_pruned'] = narrowed(widths, model)
        stage('pruned forward')
        with torch.no_grad():
            new_shapes = [t.shape for t in leaves(forward(model, data))]
        row['runs'] = True
        row['shapes_kept'] = new_shapes == shapes
        stage('flops after')
        row['mflops_after'], row['mparams_after'] = our_flops(model, model_id)
        row['flops_ratio'] = row['mflops_after'] / row['mflops_before']
        tp_after = tp_count(model, data, row)
        if tp_before and tp_after:
            row['tp_counter_flops_ratio'] = tp_after / tp_before
        row['ok'] = row['shapes_kept'] and row['layers_pruned'] > 0
        if not row['shapes_kept']:
            row['error'] = f'output shapes changed: {shapes} -> {new_shapes}'[:300]
        elif not row['layers_pruned']:
            row['error'] = 'nothing pruned'
        row.pop('stage')
    except Exception as error:  # a failure is a result: recorded with its reason
        row.update(ok=False, error=f'{row["stage"]}: {error_text(error)}')
        row.setdefault('runs', False)
    return row


# ---- sweep ---------------------------------------------------------------------------

def measure(row: Row, seed: int) -> None:
    """Fill ``row`` with the model through mmrazor, then through Torch-Pruning."""
    import importlib.util
    model_id = row['model']
    torch.manual_seed(seed)
    row['mmrazor'] = run_mmrazor(model_id, seed)
    gc.collect()  # the first model's memory is free before the second is built
    if importlib.util.find_spec('torch_pruning') is None:
        row['torch_pruning'] = dict(ok=None, error=f'not installed ({TP_INSTALL})')
    else:
        torch.manual_seed(seed)
        row['torch_pruning'] = run_torch_pruning(model_id, seed,
                                                 row['mmrazor'].get('mflops_before'))


def load(path: str) -> Dict[str, Any]:
    if osp.isfile(path):
        with open(path) as file:
            return json.load(file)
    return dict(meta={}, results=[])


def save(path: str, report: Dict[str, Any]) -> None:
    """Write atomically: a reader never sees half a file."""
    directory = osp.dirname(osp.abspath(path))
    handle, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-', suffix='.json')
    with os.fdopen(handle, 'w') as file:
        json.dump(report, file, indent=1)
    os.replace(tmp, path)


def add_row(path: str, row: Row) -> None:
    report = load(path)
    report['results'] = [r for r in report['results'] if r['model'] != row['model']]
    report['results'].append(row)
    save(path, report)


class Timeout(BaseException):
    """Not an ``Exception``: the per-tool ``except Exception`` must not swallow it."""


def _alarm(*_: Any) -> None:
    raise Timeout


def worker(models: Dict[str, str], args: argparse.Namespace) -> None:
    """Measure ``models`` in this process, saving each row as it is done."""
    from mmengine.logging import MMLogger

    from mmrazor.utils import register_all_modules
    # a model that needs more memory fails with MemoryError instead of waking the
    # kernel's OOM killer, which may pick another process of the machine
    limit = int(args.max_memory_gb * 1e9)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    torch.set_num_threads(1)
    warnings.filterwarnings('ignore')
    register_all_modules(init_default_scope=False)
    MMLogger.get_current_instance().setLevel('ERROR')
    signal.signal(signal.SIGALRM, _alarm)
    for model_id, group in models.items():
        print(f'{model_id} ...', flush=True)
        start = time.perf_counter()
        signal.alarm(args.timeout)
        row: Row = dict(model=model_id, group=group, input=list(input_shape(model_id)))
        try:
            measure(row, args.seed)
        except Timeout:  # what finished in time stays
            for tool in ('mmrazor', 'torch_pruning'):
                row.setdefault(tool, dict(ok=False, error=f'timed out ({args.timeout} s)'))
        finally:
            signal.alarm(0)
        row['seconds'] = round(time.perf_counter() - start, 1)
        add_row(args.out, row)
        print(summary_line(row), flush=True)


def summary_line(row: Row) -> str:
    ours, theirs = row['mmrazor'], row['torch_pruning']

    def cell(result: Row) -> str:
        if result.get('ok'):
            return (f'ok  {result.get("layers_pruned", 0):>3} layers  FLOPs x'
                    f'{result.get("flops_ratio", float("nan")):.2f}  '
                    f'trace {result.get("trace_s", float("nan")):6.2f}s')
        return f'FAIL {result.get("error", "")[:70]}'
    return f'{row["model"]:32} | {cell(ours):44} | {cell(theirs)}'


def sweep(models: Dict[str, str], args: argparse.Namespace) -> None:
    """Run workers until every model has a row; a worker that dies (out of memory,
    a crash in native code) costs only the model it was measuring."""
    done = {r['model'] for r in load(args.out)['results']} if args.resume else set()
    remaining = {m: g for m, g in models.items() if m not in done}
    while remaining:
        command = [sys.executable, osp.abspath(__file__), '--worker', '--out', args.out,
                   '--seed', str(args.seed), '--timeout', str(args.timeout),
                   '--max-memory-gb', str(args.max_memory_gb),
                   '--models', *remaining]
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        code = subprocess.run(command, env=env).returncode
        done = {r['model'] for r in load(args.out)['results']}
        left = [m for m in remaining if m not in done]
        if code != 0 and left:
            culprit = left[0]
            reason = f'worker died (exit code {code}; negative = signal, -9 = out of memory)'
            add_row(args.out, dict(model=culprit, group=remaining[culprit],
                                   input=list(input_shape(culprit)),
                                   mmrazor=dict(ok=False, error=reason),
                                   torch_pruning=dict(ok=False, error=reason)))
            left = left[1:]
        remaining = {m: remaining[m] for m in left}


def markdown_row(row: Row) -> str:
    """One table row: per tool, layers pruned of all conv/linear layers, FLOPs after /
    before (mmrazor's counter for both), trace time; the failure reasons last."""
    ours, theirs = row['mmrazor'], row['torch_pruning']

    def cells(result: Row, extra: str = '') -> List[str]:
        if not result.get('ok'):
            return ['fail', '', '']
        return [f'{result["layers_pruned"]}/{ours.get("layers_total", "?")}{extra}',
                f'{result["flops_ratio"]:.2f}', f'{result["trace_s"]:.2f}']

    diff = f' ({ours["max_abs_diff"]:.0e})' if 'max_abs_diff' in ours else ''
    notes = [f'{name}: {result["error"]}' for name, result in
             (('mmrazor', ours), ('TP', theirs)) if result.get('error')]
    if ours.get('units_not_convertible') and ours.get('ok'):
        notes.append(f'mmrazor: {ours["units_not_convertible"]} units not convertible '
                     f'({ours["not_convertible_example"][:80]})')
    if ours.get('untraced'):
        notes.append('mmrazor: ' + ours['untraced'][0][:120])
    return '| ' + ' | '.join([row['model'], *cells(ours, diff), *cells(theirs),
                              '; '.join(notes).replace('|', '/')]) + ' |'


def print_table(report: Dict[str, Any]) -> None:
    rows = report['results']
    print('\n| model | mmrazor layers pruned (max diff) | FLOPs x | prepare s | '
          'TP layers pruned | FLOPs x | TP trace s | notes |\n|---|---|---|---|---|---|---|---|')
    for row in rows:
        print(markdown_row(row))
    print('\n| group | models | mmrazor works | Torch-Pruning works |\n|---|---|---|---|')
    for group in GROUPS:
        of_group = [r for r in rows if r['group'] == group]
        if of_group:
            ours = sum(bool(r['mmrazor'].get('ok')) for r in of_group)
            theirs = sum(bool(r['torch_pruning'].get('ok')) for r in of_group)
            print(f'| {group} | {len(of_group)} | {ours} | {theirs} |')


def select(args: argparse.Namespace) -> Dict[str, str]:
    from mmrazor.utils.lookup import closest_names
    unknown = [g for g in args.groups if g not in GROUPS]
    if unknown:
        raise SystemExit(f'unknown groups {unknown}; valid: {", ".join(GROUPS)}')
    available = model_groups(list(GROUPS))
    if not args.models:
        return model_groups(args.groups)
    for name in args.models:
        if name not in available:
            raise SystemExit(f'unknown model {name!r}; closest: '
                             f'{", ".join(closest_names(name, available))}')
    return {name: available[name] for name in args.models}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--groups', nargs='+', default=list(GROUPS))
    parser.add_argument('--models', nargs='+', help='model ids (overrides --groups): '
                        'torchvision names such as resnet18, or ' + ', '.join(MM_CONFIGS))
    parser.add_argument('--quick', action='store_true',
                        help='resnet18 and mobilenet_v3_small only (a smoke test)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--timeout', type=int, default=1200, help='seconds per model')
    parser.add_argument('--max-memory-gb', type=float, default=10.0,
                        help='address-space limit of the worker process')
    parser.add_argument('--resume', action='store_true',
                        help='keep the rows already in --out and measure the others')
    parser.add_argument('--out', default=osp.join(osp.dirname(__file__),
                                                  'pruning_coverage.json'))
    parser.add_argument('--table-only', action='store_true',
                        help='print the tables of --out; measure nothing')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick and not args.models:
        args.models = ['resnet18', 'mobilenet_v3_small']
    return args


def main() -> None:
    args = parse_args()
    if args.table_only:
        print_table(load(args.out))
        return
    models = select(args)
    if args.worker:
        worker(models, args)
        return
    report = load(args.out) if args.resume else dict(results=[])
    report['meta'] = dict(
        torch=torch.__version__, threads=1, seed=args.seed, prune_range=PRUNE_RANGE,
        tolerance=TOLERANCE, started=time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()),
        load_average_at_start=os.getloadavg()[0],
        torch_pruning=_tp_version() or f'not installed ({TP_INSTALL})')
    save(args.out, report)
    sweep(models, args)
    report = load(args.out)
    report['meta']['load_average_at_end'] = os.getloadavg()[0]
    save(args.out, report)
    print_table(report)


def _tp_version() -> Optional[str]:
    try:
        from importlib.metadata import version
        return version('torch-pruning')
    except Exception:
        return None


if __name__ == '__main__':
    main()

"""Channel analysis on meta tensors: the same units as a real trace, in less time.

``ChannelAnalyzer`` first traces on ``meta`` tensors (shapes, no arithmetic) and keeps
that trace only when it needed no leaf and no data; otherwise it traces for real. For
every model of the pruning coverage sweep (``pruning_coverage.py``'s list and builders)
this runs the analysis both ways in the same process and reports whether the meta trace
was used, whether the units and frozen groups are identical, and both times.

    python benchmarks/pruning_meta_trace.py [--groups torchvision mmpretrain mmdet mmseg]
        [--models resnet50 ...] [--out JSON]
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time
import warnings
from typing import Any, Dict, Tuple

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from pruning_coverage import GROUPS, build, demo_data, input_shape, model_groups  # noqa: E402

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def analyze(model: torch.nn.Module, model_id: str, on_meta: bool) -> Tuple[str, float]:
    """The analysis (units and frozen groups as JSON text) and its time in seconds."""
    from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
    from mmrazor.models.task_modules.tracer import ChannelAnalyzer
    shape = input_shape(model_id)
    demo = shape if isinstance(demo_data(model, model_id), torch.Tensor) \
        else DefaultDemoInput(shape)
    analyzer = ChannelAnalyzer(demo, tracer_type='FxTracer')
    analyzer.trace_on_meta = on_meta
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        units = analyzer.analyze(model)
    seconds = time.perf_counter() - start
    return json.dumps([units, analyzer.report()], sort_keys=True, default=str), seconds


def meta_was_used(model: torch.nn.Module, model_id: str) -> bool:
    from mmrazor.models.task_modules.demo_inputs import DefaultDemoInput
    from mmrazor.models.task_modules.tracer import ChannelAnalyzer
    shape = input_shape(model_id)
    demo = shape if isinstance(demo_data(model, model_id), torch.Tensor) \
        else DefaultDemoInput(shape)
    analyzer = ChannelAnalyzer(demo, tracer_type='FxTracer')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return analyzer._trace_on_meta(model, *analyzer.demo_inputs(model)) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--groups', nargs='+', default=list(GROUPS), choices=GROUPS)
    parser.add_argument('--models', nargs='+', help='only these model ids')
    parser.add_argument('--out', default=osp.join(ROOT, 'benchmarks/pruning_meta_trace.json'))
    args = parser.parse_args()
    from mmrazor.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    torch.set_num_threads(1)
    models = model_groups(args.groups)
    if args.models:
        models = {m: models.get(m, 'given') for m in args.models}
    rows: Dict[str, Dict[str, Any]] = {}
    print('| model | meta trace used | identical analysis | real (s) | with meta (s) |\n'
          '|---|---|---|---|---|')
    for model_id in models:
        try:
            model = build(model_id)
            real, real_s = analyze(model, model_id, on_meta=False)
            ours, ours_s = analyze(model, model_id, on_meta=True)
            row = dict(meta_used=meta_was_used(model, model_id), identical=real == ours,
                       real_s=real_s, default_s=ours_s)
        except Exception as error:  # noqa: BLE001 - reported per model
            row = dict(error=f'{type(error).__name__}: {str(error)[:200]}')
        rows[model_id] = row
        print(f'| {model_id} | {row.get("meta_used")} | {row.get("identical")} | '
              f'{row.get("real_s", float("nan")):.2f} | '
              f'{row.get("default_s", float("nan")):.2f} |', flush=True)
    done = [r for r in rows.values() if 'identical' in r]
    summary = dict(models=len(rows), analysed=len(done),
                   meta_used=sum(r['meta_used'] for r in done),
                   identical=sum(r['identical'] for r in done),
                   real_s_total=sum(r['real_s'] for r in done),
                   default_s_total=sum(r['default_s'] for r in done))
    print(json.dumps(summary))
    meta = dict(torch=torch.__version__, threads=1, load_average=os.getloadavg(),
                date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))
    fd, tmp = tempfile.mkstemp(dir=osp.dirname(args.out), suffix='.tmp')
    with os.fdopen(fd, 'w') as file:
        json.dump(dict(meta=meta, summary=summary, results=rows), file, indent=1)
    os.replace(tmp, args.out)


if __name__ == '__main__':
    main()

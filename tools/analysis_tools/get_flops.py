"""FLOPs and params of the model of any config, per top-level module and in total.

    python tools/analysis_tools/get_flops.py CONFIG [--shape [N] [C] H W] [--depth 1]
        [--units G] [--latency RUNS] [--out figures.json] [--cfg-options k=v ...]

CONFIG may be an mmrazor algorithm (its ``architecture``, the model that deploys, is
measured), a plain mmpretrain/mmdet/mmseg config or ``model = dict(cfg_path=...)``.
Detectors and segmentors run on a demo batch with image meta: no input to write.
``tools/pruning/get_flops.py`` is the same tool under MMRazor 1.x's name (``-H``/``-W``).
"""
import argparse
import json
import os
from typing import List, Optional, Tuple

import torch.nn as nn
from mmengine.config import Config, DictAction

from mmrazor.models.algorithms import architecture_of
from mmrazor.models.task_modules.estimators import count_model, get_model_latency
from mmrazor.registry import explain_unknown_types
from mmrazor.utils import build_model_from_config, register_all_modules


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='FLOPs and params of a model')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--shape', type=int, nargs='+', default=None,
                        help='input size: H W, C H W or N C H W (default 224 224)')
    parser.add_argument('-H', '--height', type=int, default=None, help='input height')
    parser.add_argument('-W', '--width', type=int, default=None, help='input width')
    parser.add_argument('--depth', type=int, default=1,
                        help='table rows down to this many levels below the model')
    parser.add_argument('--units', default='M', choices=['G', 'M', 'K'],
                        help='unit of FLOPs and params')
    parser.add_argument('--latency', type=int, default=0, metavar='RUNS',
                        help='also time RUNS forward passes (median and spread)')
    parser.add_argument('--out', help='write the figures to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config')
    return parser.parse_args(argv)


def input_shape(args: argparse.Namespace) -> Tuple[int, ...]:
    """``--shape`` (H W, C H W or N C H W) or ``-H``/``-W`` as (N, C, H, W)."""
    if args.shape is not None and (args.height or args.width):
        raise SystemExit('give either --shape or -H/-W, not both')
    if args.shape is None:
        height = args.height or 224
        return (1, 3, height, args.width or height)
    shape = tuple(args.shape)
    if len(shape) == 1:
        shape = shape * 2
    if len(shape) not in (2, 3, 4):
        raise SystemExit(f'--shape takes H W, C H W or N C H W; got {list(shape)}')
    prefix = {2: (1, 3), 3: (1,), 4: ()}[len(shape)]
    return prefix + shape


def measured_model(model: nn.Module) -> Tuple[nn.Module, str]:
    """The deployable model (an algorithm's architecture) and a description of it."""
    architecture = architecture_of(model)
    if architecture is not model:
        return architecture, (f'{type(architecture).__name__} (the architecture of '
                              f'{type(model).__name__})')
    return model, type(model).__name__


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    shape = input_shape(args)
    with explain_unknown_types():
        model, description = measured_model(build_model_from_config(cfg))
    report = count_model(model, shape)
    units = dict(flops=args.units, params=args.units)
    print(f'Model: {description}\nInput shape: {shape} (FLOPs per sample)\n')
    print(report.table(depth=args.depth, units=units))
    figures = dict(config=args.config, model=description, input_shape=list(shape),
                   flops=report.total_flops, macs=report.total_macs,
                   params=report.total_params,
                   modules={name: dict(flops=report.flops.get(name, 0.0),
                                       params=report.params[name])
                            for name in report.rows(args.depth)})
    print(f'\nFLOPs: {report.total_flops / 1e9:.3f} G ({report.total_macs / 1e9:.3f} G '
          f'multiply-accumulates)   Params: {report.total_params / 1e6:.3f} M')
    if args.latency:
        _, stats = get_model_latency(model, shape, max_iter=args.latency, return_stats=True)
        figures['latency'] = stats.to_dict('ms')
        print(f'Latency: {stats.describe("ms")}')
    if args.out:
        tmp = f'{args.out}.tmp'
        with open(tmp, 'w') as file:
            json.dump(figures, file, indent=2)
        os.replace(tmp, args.out)  # never a half-written file
    return figures


if __name__ == '__main__':
    main()
